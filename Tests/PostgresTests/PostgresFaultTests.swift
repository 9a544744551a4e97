import Foundation
import Postgres
import TestSupport
import Testing

/// Really stops and starts PostgreSQL through `infra/dev`; run apart from the other tests
/// (`swift test --filter Fault`), never in parallel with them.
@Suite("PostgresFault", .serialized, .timeLimit(.minutes(3)))
struct PostgresFaultTests {
    /// Stops PostgreSQL, runs `body`, and starts PostgreSQL again even if `body` throws.
    func whilePostgresIsDown<T>(_ body: () async throws -> T) async throws -> T {
        try Infrastructure.postgres.stop()
        do {
            let value = try await body()
            try Infrastructure.postgres.start()
            return value
        } catch {
            try Infrastructure.postgres.start()
            throw error
        }
    }

    func restartPostgres() throws {
        try Infrastructure.postgres.stop()
        try Infrastructure.postgres.start()
    }

    @Test func poolFailsFastWhileDownAndRecoversAfterRestart() async throws {
        let pool = try TestDatabase.makePool(size: 2, acquireTimeout: .seconds(5))
        #expect(try await pool.query("SELECT 1 AS one").first?.decode(Int.self, "one") == 1)

        try await whilePostgresIsDown {
            for _ in 0..<3 {
                let started = ContinuousClock.now
                let error = try await #require(throws: PostgresError.self) { try await pool.query("SELECT 1") }
                #expect(error.isTransient, "\(error)")
                #expect(ContinuousClock.now - started < .seconds(8))
            }
            // A transaction gives up after its attempts, with a transient error, instead of hanging.
            let error = try await #require(throws: PostgresError.self) {
                try await pool.transaction(maxAttempts: 3) { try await $0.execute("SELECT 1") }
            }
            #expect(error.isTransient, "\(error)")
        }

        // The first query after the restart succeeds: the dead connections are replaced, not handed out.
        #expect(try await pool.query("SELECT 1 AS one").first?.decode(Int.self, "one") == 1)
        await pool.close()
    }

    @Test func idleConnectionsFromBeforeARestartAreReplaced() async throws {
        let pool = try TestDatabase.makePool(size: 3)
        // Fill the pool with idle connections.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<3 { group.addTask { try await pool.execute("SELECT pg_sleep(0.1)") } }
            try await group.waitForAll()
        }
        try restartPostgres()
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<6 {
                group.addTask { try await pool.query("SELECT 1 AS one").first?.decode(Int.self, "one") ?? 0 }
            }
            var total = 0
            for try await one in group { total += one }
            #expect(total == 6)
        }
        await pool.close()
    }

    @Test func transactionRetriesAcrossARestart() async throws {
        try await TestDatabase.withSchema(size: 2) { pool, schema in
            try await pool.execute("CREATE TABLE \(identifier: schema).t (id int PRIMARY KEY)")
            let attempts = Recorder<Int>()
            try await pool.transaction(maxAttempts: 10) { transaction in
                await attempts.append(transaction.attempt)
                try await transaction.execute("INSERT INTO \(identifier: schema).t VALUES (1)")
                if transaction.attempt == 1 {
                    // The server goes away mid-transaction, before COMMIT: the attempt is lost and runs again.
                    try restartPostgres()
                }
            }
            #expect(await attempts.values.count >= 2)
            #expect(try await pool.query("SELECT id FROM \(identifier: schema).t").count == 1)
        }
    }

    @Test func notificationStreamEndsWithATransientErrorWhenTheServerStops() async throws {
        let listener = try await PostgresConnection.connect(
            configuration: try TestDatabase.configuration(),
            logger: TestEnvironment.logger("postgres-fault")
        )
        let stream = try await listener.listen(to: [TestEnvironment.uniqueName("fault")])
        try await whilePostgresIsDown {
            let error = try await #require(throws: PostgresError.self) {
                for try await _ in stream {}
            }
            #expect(error.isTransient, "\(error)")
        }
        await listener.close()
    }
}
