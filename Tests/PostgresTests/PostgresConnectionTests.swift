import Foundation
import Postgres
import TestSupport
import Testing

/// Statements, types, errors and pipelines against the real server.
@Suite("PostgresConnection", .timeLimit(.minutes(1)))
struct PostgresConnectionTests {
    @Test func everyTypeRoundTripsThroughATable() async throws {
        try await TestDatabase.withSchema { pool, schema in
            try await pool.execute(
                """
                CREATE TABLE \(identifier: schema).everything (
                    id uuid PRIMARY KEY, s text, i int8, i32 int4, i64 int8, b bool, d float8, at timestamptz,
                    bytes bytea, data bytea, names text[], numbers int8[], ints int8[], ids uuid[], maybe text
                )
                """
            )
            let id = UUID()
            let at = Date(timeIntervalSince1970: 1_779_264_902.123456)
            let text = "héllo 'world' \"quoted\" \\ ; -- 🎉"
            let bytes: [UInt8] = [0, 1, 0x7f, 0x80, 0xff]
            let names = ["a", "b,c", "d\"e", "f\\g", "", "NULL", "{x}"]
            let ids = [UUID(), UUID()]
            let inserted = try await pool.execute(
                """
                INSERT INTO \(identifier: schema).everything
                    (id, s, i, i32, i64, b, d, at, bytes, data, names, numbers, ints, ids, maybe)
                VALUES (\(id), \(text), \(Int.max), \(Int32.min), \(Int64.min), \(true), \(-1.5e-300), \(at),
                        \(bytes), \(Data(bytes)), \(names), \([Int64.max, 0, -1]), \([1, 2, 3]), \(ids), \(String?.none))
                """
            )
            #expect(inserted == 1)

            let rows = try await pool.query("SELECT * FROM \(identifier: schema).everything WHERE id = \(id)")
            let row = try #require(rows.first)
            #expect(try row.decode(UUID.self, "id") == id)
            #expect(try row.decode(String.self, "s") == text)
            #expect(try row.decode(Int.self, "i") == Int.max)
            #expect(try row.decode(Int32.self, "i32") == Int32.min)
            #expect(try row.decode(Int64.self, "i64") == Int64.min)
            #expect(try row.decode(Bool.self, "b") == true)
            #expect(try row.decode(Double.self, "d") == -1.5e-300)
            #expect(try row.decode(Date.self, "at") == at)
            #expect(try row.decode([UInt8].self, "bytes") == bytes)
            #expect(try row.decode(Data.self, "data") == Data(bytes))
            #expect(try row.decode([String].self, "names") == names)
            #expect(try row.decode([Int64].self, "numbers") == [Int64.max, 0, -1])
            #expect(try row.decode([Int].self, "ints") == [1, 2, 3])
            #expect(try row.decode([UUID].self, "ids") == ids)
            #expect(try row.decode(String?.self, "maybe") == nil)
            #expect(try row.decode(UUID.self, 0) == id)
            #expect(row.isNull("maybe"))
        }
    }

    @Test func valuesRoundTripWithExplicitCasts() async throws {
        let pool = try TestDatabase.makePool(size: 1)
        defer { Task { await pool.close() } }
        let date = Date(timeIntervalSince1970: -86_400 * 365.25 * 30 + 0.000_001)
        let row = try #require(
            try await pool.query(
                """
                SELECT \(date)::timestamptz AS at, \(Double.infinity)::float8 AS inf, \(Double.nan)::float8 AS nan,
                       \(Optional(42))::int4 AS some, \(Int?.none)::int4 AS none, \([String?]([nil, "x"]))::text[] AS mixed,
                       \([String]())::text[] AS empty, '2026-05-20'::date AS day, now() AS now
                """
            ).first
        )
        #expect(try row.decode(Date.self, "at") == date)
        #expect(try row.decode(Double.self, "inf") == .infinity)
        #expect(try row.decode(Double.self, "nan").isNaN)
        #expect(try row.decode(Int?.self, "some") == 42)
        #expect(try row.decode(Int?.self, "none") == nil)
        #expect(try row.decode([String?].self, "mixed") == [nil, "x"])
        #expect(try row.decode([String].self, "empty") == [])
        #expect(try row.decode(Date.self, "day") == Date(timeIntervalSince1970: 1_779_235_200))
        #expect(abs(try row.decode(Date.self, "now").timeIntervalSinceNow) < 60)
    }

    @Test func sqlInjectionAttemptStaysData() async throws {
        try await TestDatabase.withSchema { pool, schema in
            try await pool.execute("CREATE TABLE \(identifier: schema).notes (body text)")
            let attack = "x'); DROP TABLE \(schema).notes; --"
            try await pool.execute("INSERT INTO \(identifier: schema).notes (body) VALUES (\(attack))")
            let evil = "' OR '1'='1"
            let none = try await pool.query("SELECT body FROM \(identifier: schema).notes WHERE body = \(evil)")
            #expect(none.isEmpty)
            let rows = try await pool.query("SELECT body FROM \(identifier: schema).notes")
            #expect(try rows.map { try $0.decode(String.self, "body") } == [attack])
        }
    }

    @Test func decodingFailuresNameTheColumn() async throws {
        let pool = try TestDatabase.makePool(size: 1)
        defer { Task { await pool.close() } }
        let row = try #require(try await pool.query("SELECT NULL::text AS missing, 'abc' AS word").first)
        let nullError = try #require(throws: PostgresError.self) { try row.decode(String.self, "missing") }
        #expect(nullError.code == .decoding)
        #expect(nullError.message.contains("\"missing\""))
        let formatError = try #require(throws: PostgresError.self) { try row.decode(Int.self, "word") }
        #expect(formatError.code == .decoding)
        #expect(formatError.message.contains("\"word\""))
        let unknown = try #require(throws: PostgresError.self) { try row.decode(Int.self, "nope") }
        #expect(unknown.code == .decoding)
    }

    @Test func uniqueViolationKeepsSQLStateAndConstraint() async throws {
        try await TestDatabase.withSchema { pool, schema in
            try await pool.execute("CREATE TABLE \(identifier: schema).skus (sku text CONSTRAINT skus_pkey PRIMARY KEY)")
            try await pool.execute("INSERT INTO \(identifier: schema).skus VALUES (\("SKU-1"))")
            let error = try await #require(throws: PostgresError.self) {
                try await pool.execute("INSERT INTO \(identifier: schema).skus VALUES (\("SKU-1"))")
            }
            #expect(error.code == .server)
            #expect(error.sqlState == "23505")
            #expect(error.constraint == "skus_pkey")
            #expect(error.detail?.contains("SKU-1") == true)
            #expect(error.query?.contains("INSERT INTO") == true)
            #expect(!error.isTransient)
            // The connection stays usable after a server error.
            #expect(try await pool.query("SELECT 1").count == 1)
        }
    }

    @Test func syntaxErrorIsNotTransient() async throws {
        let pool = try TestDatabase.makePool(size: 1)
        defer { Task { await pool.close() } }
        let error = try await #require(throws: PostgresError.self) { try await pool.query("SELEC 1") }
        #expect(error.code == .server)
        #expect(error.sqlState == "42601")
        #expect(!error.isTransient)
        #expect(error.description.contains("42601"))
    }

    @Test func executeReturnsAffectedRows() async throws {
        try await TestDatabase.withSchema { pool, schema in
            try await pool.execute("CREATE TABLE \(identifier: schema).t (n int)")
            #expect(try await pool.execute("INSERT INTO \(identifier: schema).t SELECT generate_series(1, 7)") == 7)
            #expect(try await pool.execute("UPDATE \(identifier: schema).t SET n = n + 1 WHERE n > \(4)") == 3)
            #expect(try await pool.execute("DELETE FROM \(identifier: schema).t") == 7)
        }
    }

    @Test func pipelineSendsStatementsTogetherAndReturnsEveryResult() async throws {
        try await TestDatabase.withSchema { pool, schema in
            try await pool.execute("CREATE TABLE \(identifier: schema).outbox (id int PRIMARY KEY, body text)")
            let results = try await pool.withConnection { connection in
                try await connection.pipeline([
                    "INSERT INTO \(identifier: schema).outbox VALUES (\(1), \("one"))",
                    "INSERT INTO \(identifier: schema).outbox VALUES (\(2), \("two")) RETURNING id",
                    "SELECT count(*) AS n FROM \(identifier: schema).outbox",
                    "SELECT pg_backend_pid() AS pid",
                ])
            }
            #expect(results.count == 4)
            #expect(results[0].isEmpty)
            #expect(try results[1].first?.decode(Int.self, "id") == 2)
            #expect(try results[2].first?.decode(Int.self, "n") == 2)
            #expect(results[3].count == 1)

            // An error in one statement is reported, and the implicit transaction keeps the batch all-or-nothing.
            let error = try await #require(throws: PostgresError.self) {
                try await pool.pipeline([
                    "INSERT INTO \(identifier: schema).outbox VALUES (\(3), \("three")) -- first",
                    "INSERT INTO \(identifier: schema).outbox VALUES (\(1), \("duplicate")) -- second",
                    "INSERT INTO \(identifier: schema).outbox VALUES (\(4), \("four")) -- third",
                ])
            }
            #expect(error.sqlState == "23505")
            #expect(error.query?.hasSuffix("-- second") == true)
            let ids = try await pool.query("SELECT id FROM \(identifier: schema).outbox ORDER BY id").map { try $0.decode(Int.self, "id") }
            #expect(ids == [1, 2])
            // The connection is back in normal mode afterwards.
            #expect(try await pool.query("SELECT 1 AS one").first?.decode(Int.self, "one") == 1)
        }
    }

    @Test func statementsRunAgainInPipelinesArePreparedWithinThem() async throws {
        let pool = try TestDatabase.makePool(size: 1)
        defer { Task { await pool.close() } }
        for round in 1...3 {
            let results = try await pool.pipeline(["SELECT \(round)::int + 1 AS n", "SELECT count(*) AS prepared FROM pg_prepared_statements"])
            #expect(try results[0].first?.decode(Int.self, "n") == round + 1)
            // Seen once in round 1; prepared inside the pipeline of round 2, before both statements ran.
            #expect(try results[1].first?.decode(Int.self, "prepared") == (round == 1 ? 0 : 2))
        }
    }

    @Test func pipelinedStatementsShareOneImplicitTransaction() async throws {
        // Sent as separate round trips outside a transaction, each statement would get its own transaction id.
        let pool = try TestDatabase.makePool(size: 1)
        defer { Task { await pool.close() } }
        let results = try await pool.pipeline([
            "SELECT txid_current() AS tx", "SELECT txid_current() AS tx", "SELECT txid_current() AS tx",
        ])
        let transactionIDs = try results.map { try #require($0.first).decode(Int64.self, "tx") }
        #expect(Set(transactionIDs).count == 1)
    }

    @Test func scriptRunsSeveralStatements() async throws {
        try await TestDatabase.withSchema { pool, schema in
            try await pool.withConnection { connection in
                try await connection.executeScript(
                    "CREATE TABLE \(schema).a (n int); INSERT INTO \(schema).a VALUES (1), (2); CREATE TABLE \(schema).b (m int);"
                )
            }
            #expect(try await pool.query("SELECT count(*) AS n FROM \(identifier: schema).a").first?.decode(Int.self, "n") == 2)
        }
    }

    @Test func nulInParameterIsRejectedNotTruncated() async throws {
        let pool = try TestDatabase.makePool(size: 1)
        defer { Task { await pool.close() } }
        let error = try await #require(throws: PostgresError.self) { try await pool.query("SELECT \("a\u{0}b")::text") }
        #expect(error.code == .client)
    }

    @Test func statementTimeoutCancelsSlowStatements() async throws {
        var configuration = try TestDatabase.configuration()
        configuration.statementTimeout = .milliseconds(200)
        let connection = try await PostgresConnection.connect(configuration: configuration, logger: TestEnvironment.logger("postgres-tests"))
        let error = try await #require(throws: PostgresError.self) { try await connection.query("SELECT pg_sleep(5)") }
        #expect(error.sqlState == "57014")
        #expect(try await connection.query("SHOW statement_timeout").first?.decode(String.self, 0) == "200ms")
        await connection.close()
    }

    @Test func closedConnectionRefusesWork() async throws {
        let connection = try await PostgresConnection.connect(
            configuration: try TestDatabase.configuration(),
            logger: TestEnvironment.logger("postgres-tests")
        )
        #expect(try await connection.backendPID > 0)
        await connection.close()
        await connection.close()
        #expect(connection.isClosed)
        let error = try await #require(throws: PostgresError.self) { try await connection.query("SELECT 1") }
        #expect(error.code == .connectionClosed)
    }

    @Test func connectingToNothingFailsTransiently() async throws {
        var configuration = try TestDatabase.configuration()
        configuration.port = 1  // nothing listens there
        let error = try await #require(throws: PostgresError.self) {
            _ = try await PostgresConnection.connect(configuration: configuration, logger: TestEnvironment.logger("postgres-tests"))
        }
        #expect(error.code == .connectionFailed)
        #expect(error.isTransient)
    }

    @Test func cancellingATaskCancelsItsStatementOnTheServer() async throws {
        let connection = try await PostgresConnection.connect(
            configuration: try TestDatabase.configuration(),
            logger: TestEnvironment.logger("postgres-tests")
        )
        let started = ContinuousClock.now
        let task = Task { try await connection.query("SELECT pg_sleep(30)") }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        let result = await task.result
        #expect(ContinuousClock.now - started < .seconds(10))
        let error = try #require(throws: PostgresError.self) { try result.get() }
        #expect(error.sqlState == "57014")
        #expect(!connection.isUsable)  // a pool would replace it
        await connection.close()
    }

    @Test func notificationsArriveOnAListeningConnection() async throws {
        let listener = try await PostgresConnection.connect(
            configuration: try TestDatabase.configuration(),
            logger: TestEnvironment.logger("postgres-tests")
        )
        let pool = try TestDatabase.makePool(size: 1)
        let channel = TestEnvironment.uniqueName("orders")
        let stream = try await listener.listen(to: [channel])
        try await pool.execute("SELECT pg_notify(\(channel), \("order-1"))")
        try await pool.execute("SELECT pg_notify(\(channel), \("order-2"))")
        var received: [String] = []
        for try await notification in stream {
            #expect(notification.channel == channel)
            received.append(notification.payload)
            if received.count == 2 { break }
        }
        #expect(received == ["order-1", "order-2"])
        await pool.close()
        await listener.close()
    }
}
