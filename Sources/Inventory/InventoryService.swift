import AMQP
import Contracts
import Hummingbird
import Logging
import Messaging
import Postgres
import ServiceKit
import ServiceLifecycle

/// inventory-service: stock per SKU, reservations for paid orders, and the saga's compensation.
///
/// Consumes `payment.succeeded`, `order.cancelled` and `stock.adjusted` (see ``InventoryHandlers``),
/// publishes what it emits through its transactional outbox, and serves `GET /v1/stock/{sku}`.
package struct InventoryService: EventDrivenService {
    package let configuration: InventoryConfiguration
    package let pool: PostgresPool
    package let connection: AMQPConnection
    package let logger: Logger

    package init(configuration: InventoryConfiguration = InventoryConfiguration(), pool: PostgresPool, connection: AMQPConnection, logger: Logger) {
        self.configuration = configuration
        self.pool = pool
        self.connection = connection
        self.logger = logger
    }

    package var store: InventoryStore { InventoryStore(schema: configuration.schema) }

    package var handlers: InventoryHandlers {
        InventoryHandlers(store: store)
    }

    package var eventHandlers: EventHandlers { handlers.handlers }

    /// The long-running parts: the outbox relay and the consumer.
    package func services() -> [any Service] { messaging() }

    /// Adds the HTTP routes.
    package func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        StockRoutes(store: store, pool: pool).add(to: router)
    }

    /// Runs the inventory-service process until SIGTERM or SIGINT.
    package static func run(settings: ServiceSettings = ServiceSettings(service: SystemCatalog.inventory)) async throws {
        var configuration = InventoryConfiguration()
        configuration.batchLinger = try settings.batchLinger
        try await ServiceRuntime.run(
            settings: settings, schema: configuration.schema, migrations: InventoryMigrations.all(schema: configuration.schema),
            topology: configuration.topology, queues: configuration.queues
        ) {
            dependencies, router in
            let service = InventoryService(
                configuration: configuration, pool: dependencies.pool, connection: dependencies.amqp, logger: dependencies.logger
            )
            service.addRoutes(to: router)
            return service.services()
        }
    }
}
