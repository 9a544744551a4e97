import AMQP
import Foundation
import Hummingbird
import Logging
import Messaging
import MessagingConventions
import NIOCore
import Postgres
import ServiceLifecycle

/// What a service is built from: its settings, its logger and its connections.
package struct ServiceDependencies: Sendable {
    package let settings: ServiceSettings
    package let logger: Logger
    package let pool: PostgresPool
    package let amqp: AMQPConnection
    /// The service's parking queue for its administrative routes; `nil` for a service without a work queue.
    package let parking: ParkingAdmin?
}

/// Starts a service process: connections, migrations, topology, HTTP with health and metrics, and
/// the service's own parts, in one service group that shuts down gracefully on SIGTERM or SIGINT.
///
/// Starting checks what a misconfiguration would break, and fails with a ``StartupError`` that says
/// what to fix: a setting that does not parse, a database or broker that refuses the login, a
/// schema or queue the service may not touch, a broker or database not reachable within
/// `ORDERLY_STARTUP_TIMEOUT_SECONDS`, an HTTP port that is taken. Once started, the same troubles
/// (a broker restart, a revoked permission) are retried with backoff and reported by `/health/ready`.
package enum ServiceRuntime {
    /// Runs until a shutdown signal; then stops HTTP first, drains consumers and relays, and closes
    /// the connections last.
    ///
    /// - Parameters:
    ///   - schema: the service's PostgreSQL schema; `migrations` are applied to it at start.
    ///   - topology: the exchanges, queues and bindings the service needs, declared at start.
    ///   - queues: the service's work queue and tiers, for a service that consumes one: its parking queue
    ///     gets the administrative routes of ``ParkingRoutes``.
    ///   - build: adds the service's routes to the router and returns its long-running parts
    ///     (consumers, relays, timers); those that are ``HealthReporting`` join `/health/ready`.
    /// - Throws: ``StartupError`` when the service cannot start; whatever a part throws later.
    package static func run(
        settings: ServiceSettings,
        schema: String,
        migrations: [PostgresMigration],
        topology: AMQPTopology = AMQPTopology(),
        queues: ServiceQueues? = nil,
        build: (ServiceDependencies, Router<ServiceRequestContext>) async throws -> [any Service]
    ) async throws {
        try settings.validate()
        Observability.bootstrap(level: settings.logLevel, format: settings.logFormat, service: settings.name)
        let logger = Logger(label: settings.name)
        let deadline = ContinuousClock.now + (try settings.startupTimeout)

        var databaseConfiguration: PostgresConfiguration
        do {
            databaseConfiguration = try PostgresConfiguration(url: settings.databaseURL)
        } catch let error as PostgresError {
            throw StartupError(.configuration, "ORDERLY_DATABASE_URL: \(error.message)")
        }
        databaseConfiguration.applicationName = settings.name
        var amqpConfiguration: AMQPConfiguration
        do {
            amqpConfiguration = try AMQPConfiguration(url: settings.amqpURL)
        } catch let error as AMQPError {
            throw StartupError(.configuration, "ORDERLY_AMQP_URL: \(error.message)")
        }
        amqpConfiguration.connectionName = settings.name
        let pool = PostgresPool(configuration: databaseConfiguration, size: try settings.int("ORDERLY_DB_POOL_SIZE", default: 10), logger: logger)
        let amqp = AMQPConnection.start(configuration: amqpConfiguration, logger: logger)
        do {
            try await migrate(schema: schema, migrations: migrations, pool: pool, until: deadline, logger: logger)
            try await connect(amqp, declaring: topology, until: deadline)
        } catch {
            await amqp.close()
            await pool.close()
            throw error
        }

        let parking = queues.map { ParkingAdmin(service: settings.name, queues: $0, amqp: amqpConfiguration, logger: logger) }
        let dependencies = ServiceDependencies(settings: settings, logger: logger, pool: pool, amqp: amqp, parking: parking)
        let router = Router(context: ServiceRequestContext.self)
        router.add(middleware: RequestObservabilityMiddleware())
        router.add(middleware: ProblemMiddleware())
        let health = HealthRegistry()
        HealthRoutes.add(to: router, pool: pool, amqp: amqp, components: health)
        AdminRoutes.add(to: router, settings: settings)
        if let parking { ParkingRoutes.add(to: router, admin: parking, keys: settings.adminKeys) }
        let parts =
            try await build(dependencies, router) + [
                InboxPruner(schema: schema, pool: pool, window: try settings.inboxRetention, logger: logger)
            ]
        health.register(parts.compactMap { $0 as? any HealthReporting })
        router.answerUnroutedMethodsWith405()
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
        do {
            try await group.run()
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            throw AddressInUse(host: settings.httpHost, port: settings.httpPort)
        }
        logger.info("stopped")
    }

    /// Applies migrations, waiting until `deadline` for a database that is not there yet.
    static func migrate(
        schema: String, migrations: [PostgresMigration], pool: PostgresPool, until deadline: ContinuousClock.Instant, logger: Logger
    ) async throws {
        let database = "PostgreSQL at \(pool.configuration.host):\(pool.configuration.port)/\(pool.configuration.database)"
        let role = pool.configuration.username
        var reported = false
        while true {
            do {
                try await PostgresMigrator(schema: schema, migrations: migrations).migrate(on: pool, logger: logger)
                return
            } catch let error as PostgresError {
                let message = error.oneLine
                if error.code == .connectionFailed, error.isLoginRefusal {
                    throw StartupError(.configuration, "\(database) refused role \(role): \(message); check ORDERLY_DATABASE_URL")
                }
                guard error.isTransient else {
                    throw StartupError(
                        .configuration,
                        "cannot migrate schema \(schema) as role \(role) on \(database): \(message); the role must own its schema (check ORDERLY_DATABASE_URL)"
                    )
                }
                guard ContinuousClock.now < deadline else {
                    throw StartupError(
                        .unavailable, "cannot reach \(database) in time: \(message); check ORDERLY_DATABASE_URL and that PostgreSQL runs")
                }
                if !reported {
                    reported = true
                    logger.warning("database not ready; trying again until the startup timeout", metadata: ["error": "\(message)"])
                }
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    /// Waits until `deadline` for the broker, then declares `topology`.
    static func connect(_ amqp: AMQPConnection, declaring topology: AMQPTopology, until deadline: ContinuousClock.Instant) async throws {
        let configuration = amqp.configuration
        let broker = "the broker at \(configuration.addresses.map(\.description).joined(separator: " or "))"
        do {
            try await amqp.waitUntilConnected(timeout: max(.zero, deadline - .now))
        } catch let error as AMQPError where error.code == .refused {
            throw StartupError(.configuration, "\(error.message); check ORDERLY_AMQP_URL and the broker's users and virtual hosts")
        } catch let error as AMQPError {
            throw StartupError(.unavailable, "cannot reach \(broker) in time: \(error.message); check ORDERLY_AMQP_URL and that RabbitMQ runs")
        }
        guard !topology.exchanges.isEmpty || !topology.queues.isEmpty else { return }
        do {
            try await amqp.declare(topology)
        } catch let error as AMQPError where error.isRefusal {
            throw StartupError(
                .configuration,
                "\(broker) refused to declare the service's exchanges and queues as user \(configuration.user): \(error.message); grant the user its permissions"
            )
        } catch let error as AMQPError where error.replyCode == 406 {
            throw StartupError(.configuration, "a queue or exchange exists on \(broker) with other settings: \(error.message)")
        } catch let error as AMQPError {
            throw StartupError(.unavailable, "cannot declare the service's queues on \(broker): \(error.message)")
        }
    }
}

extension PostgresError {
    /// The message and its detail on one line, as a startup failure prints it.
    var oneLine: String {
        var text = message
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        if let detail { text += ": \(detail)" }
        return text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    }

    /// Whether a failed connection was refused by the server for the login itself: a wrong password, an
    /// unknown role or database, no `pg_hba.conf` entry. Waiting does not fix these.
    var isLoginRefusal: Bool {
        ["password authentication failed", "does not exist", "no pg_hba.conf entry", "permission denied for database", "authentication failed"]
            .contains { message.contains($0) }
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
