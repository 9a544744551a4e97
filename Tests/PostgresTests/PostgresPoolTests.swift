import Foundation
import Postgres
import Synchronization
import TestSupport
import Testing

/// Pooling, transactions and retries against the real server.
@Suite("PostgresPool", .timeLimit(.minutes(1)))
struct PostgresPoolTests {
    @Test func poolLimitsConcurrencyToItsSize() async throws {
        let applicationName = TestEnvironment.uniqueName("orderly_pool")
        let pool = try TestDatabase.makePool(size: 3, applicationName: applicationName)
        let sessions = Recorder<Int>()
        let backends = Recorder<Int32>()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    try await pool.withConnection { connection in
                        let row = try #require(
                            try await connection.query(
                                """
                                SELECT count(*) AS sessions, pg_backend_pid() AS pid, pg_sleep(0.05)::text AS slept
                                FROM pg_stat_activity WHERE application_name = \(applicationName)
                                """
                            ).first
                        )
                        await sessions.append(try row.decode(Int.self, "sessions"))
                        await backends.append(try row.decode(Int32.self, "pid"))
                    }
                }
            }
            try await group.waitForAll()
        }
        let observed = await sessions.values
        #expect(observed.count == 20)
        #expect(observed.max()! <= 3)
        #expect(observed.max()! >= 2)  // the work did overlap
        #expect(Set(await backends.values).count <= 3)
        await pool.close()
        // Closing the pool ends its sessions.
        let monitor = try TestDatabase.makePool(size: 1)
        let remaining = try await monitor.query(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = \(applicationName)"
        )
        #expect(try remaining.first?.decode(Int.self, "n") == 0)
        await monitor.close()
    }

    @Test func transactionCommitsOnReturnAndRollsBackOnThrow() async throws {
        struct Refused: Error {}
        try await TestDatabase.withSchema { pool, schema in
            try await pool.execute("CREATE TABLE \(identifier: schema).orders (id text PRIMARY KEY)")
            let value = try await pool.transaction { transaction in
                try await transaction.execute("INSERT INTO \(identifier: schema).orders VALUES (\("kept"))")
                return 42
            }
            #expect(value == 42)
            await #expect(throws: Refused.self) {
                try await pool.transaction { transaction in
                    try await transaction.execute("INSERT INTO \(identifier: schema).orders VALUES (\("dropped"))")
                    throw Refused()
                }
            }
            let ids = try await pool.query("SELECT id FROM \(identifier: schema).orders ORDER BY id").map { try $0.decode(String.self, "id") }
            #expect(ids == ["kept"])
        }
    }

    @Test func pipelineInsideATransactionCommitsOrRollsBackWithIt() async throws {
        struct Refused: Error {}
        try await TestDatabase.withSchema { pool, schema in
            try await pool.execute("CREATE TABLE \(identifier: schema).inbox (id text PRIMARY KEY)")
            try await pool.execute("CREATE TABLE \(identifier: schema).outbox (id text PRIMARY KEY)")
            try await pool.transaction { transaction in
                _ = try await transaction.pipeline([
                    "INSERT INTO \(identifier: schema).inbox VALUES (\("m1"))",
                    "INSERT INTO \(identifier: schema).outbox VALUES (\("e1"))",
                ])
            }
            await #expect(throws: Refused.self) {
                try await pool.transaction { transaction in
                    _ = try await transaction.pipeline([
                        "INSERT INTO \(identifier: schema).inbox VALUES (\("m2"))",
                        "INSERT INTO \(identifier: schema).outbox VALUES (\("e2"))",
                    ])
                    throw Refused()
                }
            }
            let rows = try await pool.query(
                "SELECT (SELECT string_agg(id, ',') FROM \(identifier: schema).inbox) AS inbox, (SELECT string_agg(id, ',') FROM \(identifier: schema).outbox) AS outbox"
            )
            #expect(try rows.first?.decode(String.self, "inbox") == "m1")
            #expect(try rows.first?.decode(String.self, "outbox") == "e1")
        }
    }

    @Test func heldStatementsGoWithTheNextRoundTripInOrderAndAFailingOneUndoesTheWholeTransaction() async throws {
        try await TestDatabase.withSchema { pool, schema in
            try await pool.execute("CREATE TABLE \(identifier: schema).t (id int PRIMARY KEY)")
            for round in 0..<3 {
                // Several rounds, so that the held statements are also prepared inside the pipelines.
                try await pool.transaction { transaction in
                    transaction.sendWithNext("INSERT INTO \(identifier: schema).t VALUES (\(round * 10))")
                    transaction.sendWithNext("INSERT INTO \(identifier: schema).t VALUES (\(round * 10 + 1))")
                    // A statement after them sees what they did: they went out first, with it.
                    let seen = try await transaction.query("SELECT count(*) AS n FROM \(identifier: schema).t")[0].decode(Int.self, "n")
                    #expect(seen == round * 3 + 2)
                    transaction.sendWithNext("INSERT INTO \(identifier: schema).t VALUES (\(round * 10 + 2))")
                }
            }
            // Only held statements: BEGIN travels with them and the COMMIT.
            try await pool.transaction { transaction in transaction.sendWithNext("INSERT INTO \(identifier: schema).t VALUES (\(100))") }
            let error = try await #require(throws: PostgresError.self) {
                try await pool.transaction { transaction in
                    try await transaction.execute("INSERT INTO \(identifier: schema).t VALUES (\(200))")
                    transaction.sendWithNext("INSERT INTO \(identifier: schema).t VALUES (\(0)) -- taken")
                    transaction.sendWithNext("INSERT INTO \(identifier: schema).t VALUES (\(201))")
                }
            }
            #expect(error.sqlState == "23505")
            #expect(error.query?.hasSuffix("-- taken") == true)
            let ids = try await pool.query("SELECT id FROM \(identifier: schema).t ORDER BY id").map { try $0.decode(Int.self, "id") }
            #expect(ids == [0, 1, 2, 10, 11, 12, 20, 21, 22, 100])
        }
    }

    @Test func whatWaitsForTheEndOfATransactionLearnsWhetherItCommitted() async throws {
        struct Refused: Error {}
        let endings = Mutex<[String]>([])
        func record(_ name: String) -> @Sendable (Bool) -> Void {
            { committed in endings.withLock { $0.append("\(name): \(committed ? "committed" : "not committed")") } }
        }
        try await TestDatabase.withSchema { pool, schema in
            try await pool.execute("CREATE TABLE \(identifier: schema).t (id int PRIMARY KEY)")
            try await pool.transaction { transaction in
                transaction.sendWithNext("INSERT INTO \(identifier: schema).t VALUES (1)")
                transaction.onEnd(record("held only"))
            }
            await #expect(throws: Refused.self) {
                try await pool.transaction { transaction in
                    try await transaction.execute("INSERT INTO \(identifier: schema).t VALUES (2)")
                    transaction.onEnd(record("thrown"))
                    throw Refused()
                }
            }
            await #expect(throws: PostgresError.self) {
                try await pool.transaction { transaction in
                    transaction.onEnd(record("failed at commit"))
                    transaction.sendWithNext("INSERT INTO \(identifier: schema).t VALUES (1)")
                }
            }
            try await pool.transaction { transaction in transaction.onEnd(record("nothing sent")) }
        }
        #expect(
            endings.withLock { $0 } == [
                "held only: committed", "thrown: not committed", "failed at commit: not committed", "nothing sent: committed",
            ])
    }

    @Test func swallowedErrorInsideTransactionIsNotReportedAsCommitted() async throws {
        try await TestDatabase.withSchema { pool, schema in
            try await pool.execute("CREATE TABLE \(identifier: schema).t (id int PRIMARY KEY)")
            let error = try await #require(throws: PostgresError.self) {
                try await pool.transaction { transaction in
                    try await transaction.execute("INSERT INTO \(identifier: schema).t VALUES (1)")
                    _ = try? await transaction.execute("INSERT INTO \(identifier: schema).t VALUES (1)")
                }
            }
            #expect(error.sqlState == "25P02")
            #expect(try await pool.query("SELECT id FROM \(identifier: schema).t").isEmpty)
        }
    }

    @Test func conflictingSerializableTransactionsBothCommitThanksToRetry() async throws {
        try await TestDatabase.withSchema { pool, schema in
            try await pool.execute("CREATE TABLE \(identifier: schema).counter (id int PRIMARY KEY, n int NOT NULL)")
            try await pool.execute("INSERT INTO \(identifier: schema).counter VALUES (1, 0)")
            let barrier = Barrier(parties: 2)
            let attempts = Recorder<Int>()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        try await pool.transaction(isolation: .serializable) { transaction in
                            await attempts.append(transaction.attempt)
                            let n = try #require(
                                try await transaction.query("SELECT n FROM \(identifier: schema).counter WHERE id = 1").first
                            ).decode(Int.self, "n")
                            // Both first attempts read before either writes, so they conflict.
                            if transaction.attempt == 1 { await barrier.arriveAndWait() }
                            try await transaction.execute("UPDATE \(identifier: schema).counter SET n = \(n + 1) WHERE id = 1")
                        }
                    }
                }
                try await group.waitForAll()
            }
            let n = try await pool.query("SELECT n FROM \(identifier: schema).counter WHERE id = 1").first?.decode(Int.self, "n")
            #expect(n == 2)
            let seen = await attempts.values
            #expect(seen.count >= 3)
            #expect(seen.max()! >= 2)
        }
    }

    @Test func serializationFailureIsTransientAndEndsAfterMaxAttempts() async throws {
        try await TestDatabase.withSchema { pool, schema in
            try await pool.execute("CREATE TABLE \(identifier: schema).counter (id int PRIMARY KEY, n int NOT NULL)")
            try await pool.execute("INSERT INTO \(identifier: schema).counter VALUES (1, 0)")
            let attempts = Recorder<Int>()
            let error = try await #require(throws: PostgresError.self) {
                try await pool.transaction(isolation: .repeatableRead, maxAttempts: 2) { transaction in
                    await attempts.append(transaction.attempt)
                    _ = try await transaction.query("SELECT n FROM \(identifier: schema).counter WHERE id = 1")
                    // Another session changes the row after this snapshot was taken; updating it must then fail.
                    try await pool.execute("UPDATE \(identifier: schema).counter SET n = n + 1 WHERE id = 1")
                    try await transaction.execute("UPDATE \(identifier: schema).counter SET n = n + 10 WHERE id = 1")
                }
            }
            #expect(error.sqlState == "40001")
            #expect(error.isTransient)
            #expect(await attempts.values == [1, 2])
        }
    }

    @Test func lostConnectionBeforeCommitIsRetriedOnAFreshConnection() async throws {
        try await TestDatabase.withSchema { pool, schema in
            try await pool.execute("CREATE TABLE \(identifier: schema).t (id int PRIMARY KEY)")
            let pids = Recorder<Int32>()
            try await pool.transaction { transaction in
                await pids.append(try await transaction.connection.backendPID)
                try await transaction.execute("INSERT INTO \(identifier: schema).t VALUES (\(transaction.attempt))")
                if transaction.attempt == 1 {
                    // The server kills this session: what a crash or restart looks like to the client.
                    _ = try await transaction.query("SELECT pg_terminate_backend(pg_backend_pid())")
                }
            }
            let ids = try await pool.query("SELECT id FROM \(identifier: schema).t").map { try $0.decode(Int.self, "id") }
            #expect(ids == [2])
            let seen = await pids.values
            #expect(seen.count == 2)
            #expect(seen[0] != seen[1])
        }
    }

    @Test func brokenIdleConnectionIsReplacedTransparently() async throws {
        let applicationName = TestEnvironment.uniqueName("orderly_pool")
        let pool = try TestDatabase.makePool(size: 1, applicationName: applicationName)
        let firstPID = try await pool.withConnection { try await $0.backendPID }
        let killer = try TestDatabase.makePool(size: 1)
        try await killer.execute("SELECT pg_terminate_backend(\(firstPID))")
        await killer.close()
        try await Task.sleep(for: .milliseconds(100))
        let secondPID = try await pool.withConnection { try await $0.backendPID }
        #expect(secondPID != firstPID)
        #expect(try await pool.query("SELECT 1 AS one").first?.decode(Int.self, "one") == 1)
        await pool.close()
    }

    @Test func connectionLeftInATransactionIsRolledBackBeforeReuse() async throws {
        try await TestDatabase.withSchema(size: 1) { pool, schema in
            try await pool.execute("CREATE TABLE \(identifier: schema).t (id int)")
            try await pool.withConnection { connection in
                try await connection.execute("BEGIN")
                try await connection.execute("INSERT INTO \(identifier: schema).t VALUES (1)")
            }
            #expect(try await pool.query("SELECT id FROM \(identifier: schema).t").isEmpty)
            #expect(try await pool.query("SELECT 1 AS one").count == 1)
        }
    }

    @Test func waitingForABusyPoolTimesOut() async throws {
        let pool = try TestDatabase.makePool(size: 1, acquireTimeout: .milliseconds(300))
        try await pool.withConnection { _ in
            let started = ContinuousClock.now
            let error = try await #require(throws: PostgresError.self) { try await pool.query("SELECT 1") }
            #expect(error.code == .timeout)
            #expect(error.isTransient)
            // Under the 10 s a pool waits by default: the bound tells that the 300 ms limit was kept, not how soon a
            // busy machine wakes a timer.
            #expect(ContinuousClock.now - started < .seconds(8))
        }
        // The pool still works once the connection is back.
        #expect(try await pool.query("SELECT 1").count == 1)
        await pool.close()
    }

    @Test func waitersAreServedInArrivalOrder() async throws {
        let pool = try TestDatabase.makePool(size: 1)
        let order = Recorder<Int>()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await pool.withConnection { _ in try await Task.sleep(for: .milliseconds(500)) }
            }
            try await Task.sleep(for: .milliseconds(100))
            for index in 0..<5 {
                group.addTask { try await pool.withConnection { _ in await order.append(index) } }
                // Let each waiter queue up before the next one arrives.
                try await Task.sleep(for: .milliseconds(40))
            }
            try await group.waitForAll()
        }
        #expect(await order.values == [0, 1, 2, 3, 4])
        await pool.close()
    }

    @Test func cancelledWaiterStopsWaiting() async throws {
        let pool = try TestDatabase.makePool(size: 1, acquireTimeout: .seconds(30))
        try await pool.withConnection { _ in
            let waiter = Task { try await pool.query("SELECT 1") }
            try await Task.sleep(for: .milliseconds(100))
            let started = ContinuousClock.now
            waiter.cancel()
            let error = try await #require(throws: PostgresError.self) { try await waiter.value }
            #expect(error.code == .cancelled)
            // Far inside the 30 s acquire timeout that a waiter deaf to its cancellation would wait out.
            #expect(ContinuousClock.now - started < .seconds(15))
        }
        #expect(try await pool.query("SELECT 1").count == 1)
        await pool.close()
    }

    @Test func closingThePoolFailsWaitersAndLaterUse() async throws {
        let pool = try TestDatabase.makePool(size: 1, acquireTimeout: .seconds(30))
        let held = try await pool.withConnection { connection in
            let waiter = Task { try await pool.query("SELECT 1") }
            try await Task.sleep(for: .milliseconds(100))
            await pool.close()
            let error = try await #require(throws: PostgresError.self) { try await waiter.value }
            #expect(error.code == .poolClosed)
            return connection
        }
        #expect(held.isClosed)  // closed on release, since the pool was closed
        let error = try await #require(throws: PostgresError.self) { try await pool.query("SELECT 1") }
        #expect(error.code == .poolClosed)
    }
}
