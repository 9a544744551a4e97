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
package struct PaymentService: EventDrivenService {
    package let configuration: PaymentConfiguration
    package let pool: PostgresPool
    package let connection: AMQPConnection
    package let gateway: GatewayClient
    package let logger: Logger

    /// - Parameter gateway: the gateway client; by default one for `configuration.gatewayURL`, shut down
    ///   by the ``GatewayClientCloser`` among ``services()``.
    package init(
        configuration: PaymentConfiguration = PaymentConfiguration(), pool: PostgresPool, connection: AMQPConnection,
        gateway: GatewayClient? = nil, logger: Logger
    ) {
        self.configuration = configuration
        self.pool = pool
        self.connection = connection
        self.gateway = gateway ?? GatewayClient(baseURL: configuration.gatewayURL, timeout: configuration.gatewayTimeout, logger: logger)
        self.logger = logger
    }

    package var store: PaymentStore { PaymentStore(schema: configuration.schema) }

    package var handlers: PaymentHandlers { PaymentHandlers(store: store, gateway: gateway) }

    package var eventHandlers: EventHandlers { handlers.handlers }

    /// The long-running parts, in start order: the gateway client's closer (stops last), the relay, the consumer (stops first).
    package func services() -> [any Service] { [GatewayClientCloser(client: gateway)] + messaging() }

    /// Runs the payment-service process until SIGTERM or SIGINT.
    package static func run(settings: ServiceSettings = ServiceSettings(service: SystemCatalog.payment)) async throws {
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
