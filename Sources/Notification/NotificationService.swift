import AMQP
import Contracts
import Hummingbird
import Logging
import Messaging
import Postgres
import ServiceKit
import ServiceLifecycle

/// notification-service: exactly one customer notification per order outcome.
///
/// Consumes `order.completed`, `order.failed` and `order.cancelled` (see ``NotificationHandlers``),
/// sends through the configured ``NotificationChannel``s, and publishes `notification.sent` (or
/// `notification.failed`) through its transactional outbox.
package struct NotificationService: EventDrivenService {
    package let configuration: NotificationConfiguration
    package let channels: [any NotificationChannel]
    package let pool: PostgresPool
    package let connection: AMQPConnection
    package let logger: Logger

    /// - Parameter channels: the channels to send through; by default those the configuration enables.
    package init(
        configuration: NotificationConfiguration = NotificationConfiguration(), channels: [any NotificationChannel]? = nil, pool: PostgresPool,
        connection: AMQPConnection, logger: Logger
    ) {
        self.configuration = configuration
        self.channels = channels ?? configuration.channels()
        self.pool = pool
        self.connection = connection
        self.logger = logger
    }

    package var store: NotificationStore { NotificationStore(schema: configuration.schema) }

    package var handlers: NotificationHandlers {
        NotificationHandlers(store: store, channels: channels, lastAttempt: configuration.queues.retryPolicy.tiers.count + 1)
    }

    package var eventHandlers: EventHandlers { handlers.handlers }

    /// The long-running parts: the outbox relay and the consumer.
    package func services() -> [any Service] { messaging() }

    /// Runs the notification-service process until SIGTERM or SIGINT.
    package static func run(settings: ServiceSettings = ServiceSettings(service: SystemCatalog.notification)) async throws {
        let configuration = try NotificationConfiguration(settings: settings)
        try await ServiceRuntime.run(
            settings: settings, schema: configuration.schema, migrations: NotificationMigrations.all(schema: configuration.schema),
            topology: configuration.topology, queues: configuration.queues
        ) { dependencies, _ in
            var logger = dependencies.logger
            logger[metadataKey: "mail.dir"] = "\(configuration.mailDirectory.path)"
            let service = NotificationService(configuration: configuration, pool: dependencies.pool, connection: dependencies.amqp, logger: logger)
            logger.info("notification channels", metadata: ["channels": "\(service.channels.map(\.name).joined(separator: ","))"])
            return service.services()
        }
    }
}
