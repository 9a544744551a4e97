import Logging
import Postgres
import TestSupport

/// Pools and throw-away schemas on the real PostgreSQL at `TestEnvironment.databaseURL`.
enum TestDatabase {
    /// The configuration from the environment, tagged with a unique application name so a test can find its own
    /// sessions in `pg_stat_activity`.
    static func configuration(applicationName: String = TestEnvironment.uniqueName("orderly_test")) throws -> PostgresConfiguration {
        var configuration = try PostgresConfiguration(url: TestEnvironment.databaseURL)
        configuration.applicationName = applicationName
        configuration.connectTimeout = .seconds(5)
        return configuration
    }

    static func makePool(size: Int = 4, acquireTimeout: Duration = .seconds(10), applicationName: String? = nil) throws -> PostgresPool {
        let configuration = try applicationName.map { try self.configuration(applicationName: $0) } ?? self.configuration()
        return PostgresPool(
            configuration: configuration,
            size: size,
            acquireTimeout: acquireTimeout,
            logger: TestEnvironment.logger("postgres-tests")
        )
    }

    /// Runs `body` with a pool and a fresh schema, then drops the schema and closes the pool, also on failure.
    static func withSchema<T>(
        size: Int = 4,
        _ body: (PostgresPool, String) async throws -> T
    ) async throws -> T {
        let pool = try makePool(size: size)
        let schema = TestEnvironment.uniqueName("pgtest")
        try await pool.execute("CREATE SCHEMA \(identifier: schema)")
        do {
            let value = try await body(pool, schema)
            try await pool.execute("DROP SCHEMA \(identifier: schema) CASCADE")
            await pool.close()
            return value
        } catch {
            _ = try? await pool.execute("DROP SCHEMA \(identifier: schema) CASCADE")
            await pool.close()
            throw error
        }
    }
}

/// Collects what concurrent tasks observed.
actor Recorder<Value: Sendable> {
    private(set) var values: [Value] = []
    func append(_ value: Value) { values.append(value) }
}

/// Lets `parties` tasks wait until all of them arrived.
actor Barrier {
    private let parties: Int
    private var arrived = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(parties: Int) { self.parties = parties }

    func arriveAndWait() async {
        arrived += 1
        if arrived >= parties {
            for waiter in waiting { waiter.resume() }
            waiting.removeAll()
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }
}
