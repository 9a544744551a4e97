import AMQP
import Hummingbird
import Logging
import Messaging
import Postgres
import ServiceLifecycle

/// What a service is built from: its settings, its logger and its connections.
public struct ServiceDependencies: Sendable {
    public let settings: ServiceSettings
    public let logger: Logger
    public let pool: PostgresPool
    public let amqp: AMQPConnection
}

/// Starts a service process: connections, migrations, HTTP with health and metrics, and the
/// service's own parts, in one service group that shuts down gracefully on SIGTERM or SIGINT.
public enum ServiceRuntime {
    /// Runs until a shutdown signal; then stops HTTP first, drains consumers and relays, and closes
    /// the connections last.
    ///
    /// - Parameters:
    ///   - schema: the service's PostgreSQL schema; `migrations` are applied to it at start.
    ///   - build: adds the service's routes to the router and returns its long-running parts
    ///     (consumers, relays, timers).
    public static func run(
        settings: ServiceSettings,
        schema: String,
        migrations: [PostgresMigration],
        build: (ServiceDependencies, Router<BasicRequestContext>) async throws -> [any Service]
    ) async throws {
        Observability.bootstrap(level: settings.logLevel)
        let logger = Logger(label: settings.name)
        var databaseConfiguration = try PostgresConfiguration(url: settings.databaseURL)
        databaseConfiguration.applicationName = settings.name
        let pool = PostgresPool(configuration: databaseConfiguration, size: try settings.int("ORDERLY_DB_POOL_SIZE", default: 10), logger: logger)
        var amqpConfiguration = try AMQPConfiguration(url: settings.amqpURL)
        amqpConfiguration.connectionName = settings.name
        let amqp = AMQPConnection.start(configuration: amqpConfiguration, logger: logger)

        try await migrate(schema: schema, migrations: migrations, pool: pool, logger: logger)

        let dependencies = ServiceDependencies(settings: settings, logger: logger, pool: pool, amqp: amqp)
        let router = Router()
        router.add(middleware: ProblemMiddleware())
        HealthRoutes.add(to: router, pool: pool, amqp: amqp)
        let parts = try await build(dependencies, router)
        let application = Application(
            router: router,
            configuration: .init(address: .hostname(settings.httpHost, port: settings.httpPort), serverName: settings.name),
            logger: logger
        )
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: ConnectionCloser(pool: pool, amqp: amqp))] + parts.map { .init(service: $0) }
                    + [.init(service: application)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        logger.info("starting", metadata: ["http": "\(settings.httpHost):\(settings.httpPort)"])
        try await group.run()
    }

    /// Applies migrations, waiting for the database while it is not there yet.
    static func migrate(schema: String, migrations: [PostgresMigration], pool: PostgresPool, logger: Logger) async throws {
        var attempt = 0
        while true {
            do {
                try await PostgresMigrator(schema: schema, migrations: migrations).migrate(on: pool, logger: logger)
                return
            } catch let error as PostgresError where error.isTransient && attempt < 60 {
                attempt += 1
                logger.warning("database not ready; migrating again shortly", metadata: ["error": "\(error)"])
                try await Task.sleep(for: .seconds(1))
            }
        }
    }
}

/// Closes the broker connection and the pool when the group shuts down; first in the group, so last to stop.
struct ConnectionCloser: Service {
    let pool: PostgresPool
    let amqp: AMQPConnection

    func run() async throws {
        try? await gracefulShutdown()
        await amqp.close()
        await pool.close()
    }
}
