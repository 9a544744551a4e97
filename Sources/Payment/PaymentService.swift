import AMQP
import Contracts
import Logging
import Messaging
import Postgres
import ServiceKit
import ServiceLifecycle

/// payment-service: charges and refunds through the payment gateway.
///
/// Consumes `order.placed`, `payment.refund_requested` and `order.cancelled` (see ``PaymentHandlers``)
/// and publishes `payment.succeeded`, `payment.failed` and `payment.refunded` through its
/// transactional outbox.
public struct PaymentService: EventDrivenService {
    public let configuration: PaymentConfiguration
    public let pool: PostgresPool
    public let connection: AMQPConnection
    public let gateway: GatewayClient
    public let logger: Logger

    /// - Parameter gateway: the gateway client; by default one for `configuration.gatewayURL`, shut down
    ///   by the ``GatewayClientCloser`` among ``services()``.
    public init(
        configuration: PaymentConfiguration = PaymentConfiguration(), pool: PostgresPool, connection: AMQPConnection,
        gateway: GatewayClient? = nil, logger: Logger
    ) {
        self.configuration = configuration
        self.pool = pool
        self.connection = connection
        self.gateway = gateway ?? GatewayClient(baseURL: configuration.gatewayURL, timeout: configuration.gatewayTimeout, logger: logger)
        self.logger = logger
    }

    public var store: PaymentStore { PaymentStore(schema: configuration.schema) }

    public var handlers: PaymentHandlers { PaymentHandlers(store: store, gateway: gateway) }

    public var eventHandlers: EventHandlers { handlers.handlers }

    /// The long-running parts, in start order: the gateway client's closer (stops last), the relay, the consumer (stops first).
    public func services() -> [any Service] { [GatewayClientCloser(client: gateway)] + messaging() }

    /// Runs the payment-service process until SIGTERM or SIGINT.
    public static func run(settings: ServiceSettings = ServiceSettings(service: SystemCatalog.payment)) async throws {
        let configuration = try PaymentConfiguration(settings: settings)
        try await ServiceRuntime.run(
            settings: settings, schema: configuration.schema, migrations: PaymentMigrations.all(schema: configuration.schema),
            topology: configuration.topology, queues: configuration.queues
        ) { dependencies, _ in
            PaymentService(configuration: configuration, pool: dependencies.pool, connection: dependencies.amqp, logger: dependencies.logger)
                .services()
        }
    }
}
