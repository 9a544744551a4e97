import Foundation
import Testing

@testable import Postgres

/// The pure parts: configuration parsing, text formats, error classification, pool bookkeeping. No server needed.
@Suite("Postgres core")
struct PostgresCoreTests {
    // MARK: Configuration

    @Test func parsesAFullURL() throws {
        let configuration = try PostgresConfiguration(
            url:
                "postgresql://ord%40erly:p%3Ass%2Fw@db.example:6543/shop%20db?application_name=order-service&sslmode=require&connect_timeout=7&statement_timeout=2500&target_session_attrs=read-write"
        )
        #expect(configuration.username == "ord@erly")
        #expect(configuration.password == "p:ss/w")
        #expect(configuration.host == "db.example")
        #expect(configuration.port == 6543)
        #expect(configuration.database == "shop db")
        #expect(configuration.applicationName == "order-service")
        #expect(configuration.sslMode == "require")
        #expect(configuration.connectTimeout == .seconds(7))
        #expect(configuration.statementTimeout == .milliseconds(2500))
        #expect(configuration.additionalParameters == ["target_session_attrs": "read-write"])
        #expect(!configuration.description.contains("p:ss/w"))

        let parameters = Dictionary(uniqueKeysWithValues: configuration.connectionParameters.map { ($0.keyword, $0.value) })
        #expect(parameters["user"] == "ord@erly")
        #expect(parameters["password"] == "p:ss/w")
        #expect(parameters["dbname"] == "shop db")
        #expect(parameters["port"] == "6543")
        #expect(parameters["connect_timeout"] == "7")
        #expect(parameters["application_name"] == "order-service")
        #expect(parameters["target_session_attrs"] == "read-write")
        #expect(parameters["client_encoding"] == "UTF8")
        #expect(parameters["options"] == "-c TimeZone=UTC -c DateStyle=ISO -c plan_cache_mode=force_custom_plan -c statement_timeout=2500")
    }

    @Test func urlDefaults() throws {
        let configuration = try PostgresConfiguration(url: "postgres://orderly@localhost")
        #expect(configuration.port == 5432)
        #expect(configuration.database == "orderly")
        #expect(configuration.password == nil)
        let ipv6 = try PostgresConfiguration(url: "postgresql://u:p@[::1]:5433/d")
        #expect(ipv6.host == "::1")
        #expect(ipv6.port == 5433)
    }

    @Test(arguments: ["mysql://u@h/d", "postgresql://h:5432/d", "not a url at all", "postgresql://u@h/d?connect_timeout=soon"])
    func rejectsBadURLs(_ url: String) {
        #expect {
            try PostgresConfiguration(url: url)
        } throws: { error in
            (error as? PostgresError)?.code == .invalidConfiguration
        }
    }

    @Test func connectTimeoutRoundsUpToWholeSecondsOfAtLeastTwo() {
        func timeout(_ duration: Duration) -> String? {
            let configuration = PostgresConfiguration(username: "u", database: "d", connectTimeout: duration)
            return configuration.connectionParameters.first { $0.keyword == "connect_timeout" }?.value
        }
        #expect(timeout(.milliseconds(500)) == "2")
        #expect(timeout(.milliseconds(3500)) == "4")
        #expect(timeout(.seconds(10)) == "10")
    }

    // MARK: Queries

    @Test func interpolationBindsValuesAndQuotesIdentifiers() {
        let name = "x'); DROP TABLE orders; --"
        let limit = 5
        let missing: String? = nil
        let query: PostgresQuery =
            "SELECT * FROM \(identifier: "we\"ird").\(unescaped: "t") WHERE name = \(name) AND note = \(missing) LIMIT \(limit)"
        #expect(query.sql == "SELECT * FROM \"we\"\"ird\".t WHERE name = $1 AND note = $2 LIMIT $3")
        #expect(query.parameters == [name, nil, "5"])
    }

    @Test func encodesParametersInTextFormat() {
        #expect(true.postgresText == "true")
        #expect(Double.infinity.postgresText == "Infinity")
        #expect((-Double.infinity).postgresText == "-Infinity")
        #expect(Double.nan.postgresText == "NaN")
        #expect(0.1.postgresText == "0.1")
        #expect([UInt8]([0x00, 0xab, 0xff]).postgresText == "\\x00abff")
        #expect(Data([0x01]).postgresText == "\\x01")
        #expect(["a", "b\"c", "d\\e", "", "NULL"].postgresText == #"{"a","b\"c","d\\e","","NULL"}"#)
        #expect([Optional("x"), nil].postgresText == #"{"x",NULL}"#)
        #expect([Int64(1), -2].postgresText == #"{"1","-2"}"#)
        #expect(UUID(uuidString: "E621E1F8-C36C-495A-93FC-0C247A3E6E5F")!.postgresText == "e621e1f8-c36c-495a-93fc-0c247a3e6e5f")
        #expect(Optional<Int>.none.postgresText == nil)
    }

    // MARK: Text formats

    @Test func arrayLiteralsRoundTrip() throws {
        let values: [String?] = ["plain", "with space", "quote\"d", "back\\slash", "{braces}", "a,b", "", nil, "NULL", "ünï"]
        let text = PostgresArrayLiteral.encode(values)
        #expect(PostgresArrayLiteral.decode(text) == values)
        #expect(PostgresArrayLiteral.decode("{}") == [])
        #expect(PostgresArrayLiteral.decode("{1,2,NULL, 3 }") == ["1", "2", nil, "3"])
        #expect(PostgresArrayLiteral.decode("[0:1]={a,b}") == ["a", "b"])
        #expect(PostgresArrayLiteral.decode("{{1,2},{3,4}}") == nil)
        #expect(PostgresArrayLiteral.decode("{\"unterminated}") == nil)
        #expect(PostgresArrayLiteral.decode("1,2") == nil)
    }

    @Test func timestampsFormatWithMicrosecondsInUTC() {
        let date = Date(timeIntervalSince1970: 1_779_264_902.123456)
        #expect(PostgresTimestamp.format(date) == "2026-05-20T08:15:02.123456Z")
        #expect(PostgresTimestamp.format(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59.500000Z")
        #expect(PostgresTimestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000000Z")
    }

    @Test(arguments: [
        ("2026-05-20 08:15:02.123456+00", 1_779_264_902.123456),
        ("2026-05-20 10:15:02.123456+02", 1_779_264_902.123456),
        ("2026-05-20 13:45:02.123456+05:30", 1_779_264_902.123456),
        ("2026-05-20 00:15:02.123456-08", 1_779_264_902.123456),
        ("2026-05-20T08:15:02.123456Z", 1_779_264_902.123456),
        ("2026-05-20 08:15:02", 1_779_264_902),
        ("2026-05-20 08:15:02.5+00", 1_779_264_902.5),
        ("2026-05-20", 1_779_235_200),
        ("2000-02-29 00:00:00+00", 951_782_400),
        ("1969-12-31 23:59:59.5+00", -0.5),
    ])
    func timestampsParse(_ text: String, _ seconds: Double) throws {
        let date = try #require(PostgresTimestamp.parse(text))
        #expect(abs(date.timeIntervalSince1970 - seconds) < 0.000_001)
    }

    @Test func timestampParsingRejectsGarbage() {
        #expect(PostgresTimestamp.parse("yesterday") == nil)
        #expect(PostgresTimestamp.parse("2026-13-01") == nil)
        #expect(PostgresTimestamp.parse("2026-05-20 08:15") == nil)
        #expect(PostgresTimestamp.parse("2026-05-20 08:15:02+") == nil)
        #expect(PostgresTimestamp.parse("infinity") == .distantFuture)
    }

    @Test func calendarConversionIsConsistent() {
        for days in stride(from: Int64(-800_000), through: 800_000, by: 997) {
            let (year, month, day) = PostgresTimestamp.civil(fromDays: days)
            #expect(PostgresTimestamp.days(fromCivil: year, month, day) == days)
        }
    }

    @Test func byteaDecoding() {
        #expect(PostgresBytea.decode("\\x00abFF") == [0x00, 0xab, 0xff])
        #expect(PostgresBytea.decode("\\x") == [])
        #expect(PostgresBytea.decode("\\x0") == nil)
        #expect(PostgresBytea.decode("\\xzz") == nil)
        #expect(PostgresBytea.decode("abc") == nil)
    }

    // MARK: Errors

    @Test(arguments: [
        ("40001", true), ("40P01", true), ("08006", true), ("08001", true), ("57P01", true), ("57P02", true),
        ("57P03", true), ("53300", true), ("23505", false), ("42601", false), ("57014", false), ("25P02", false),
    ])
    func serverErrorsClassify(_ sqlState: String, _ transient: Bool) {
        #expect(PostgresError(code: .server, message: "", sqlState: sqlState).isTransient == transient)
    }

    @Test func clientSideCodesClassify() {
        #expect(PostgresError(code: .connectionLost, message: "").isTransient)
        #expect(PostgresError(code: .connectionFailed, message: "").isTransient)
        #expect(PostgresError(code: .timeout, message: "").isTransient)
        #expect(!PostgresError(code: .decoding, message: "").isTransient)
        #expect(!PostgresError(code: .poolClosed, message: "").isTransient)
        #expect(!PostgresError(code: .cancelled, message: "").isTransient)
        #expect(PostgresPool.shouldRetryTransaction(after: PostgresError(code: .connectionLost, message: "")))
        #expect(PostgresPool.shouldRetryTransaction(after: PostgresError(code: .server, message: "", sqlState: "40001")))
        #expect(!PostgresPool.shouldRetryTransaction(after: PostgresError(code: .commitOutcomeUnknown, message: "")))
        #expect(!PostgresPool.shouldRetryTransaction(after: PostgresError(code: .server, message: "", sqlState: "23505")))
    }

    // MARK: Pool bookkeeping

    private func describe(_ decision: PoolState<String, String>.AcquireDecision) -> String {
        switch decision {
        case .use(let connection): "use \(connection)"
        case .open: "open"
        case .wait: "wait"
        case .closed: "closed"
        }
    }

    private func describe(_ lease: PoolLease<String>) -> String {
        switch lease {
        case .connection(let connection): "connection \(connection)"
        case .permit: "permit"
        }
    }

    @Test func poolStateOpensUpToCapacityThenQueuesFairly() throws {
        var state = PoolState<String, String>(capacity: 2)
        #expect(describe(state.acquire(id: 1, waiter: "a")) == "open")
        #expect(describe(state.acquire(id: 2, waiter: "b")) == "open")
        #expect(describe(state.acquire(id: 3, waiter: "c")) == "wait")
        #expect(describe(state.acquire(id: 4, waiter: "d")) == "wait")
        #expect(state.taken == 2)

        // A healthy connection goes to the first waiter.
        let first = state.release("conn-1", reusable: true)
        #expect(first.close == nil)
        #expect(first.handoff?.0 == "c")
        #expect(first.handoff.map { describe($0.1) } == "connection conn-1")

        // A broken one is closed, and its slot goes to the next waiter as a permit.
        let second = state.release("conn-2", reusable: false)
        #expect(second.close == "conn-2")
        #expect(second.handoff?.0 == "d")
        #expect(second.handoff.map { describe($0.1) } == "permit")
        #expect(state.taken == 2)

        // With nobody waiting, a healthy connection becomes idle and is reused.
        _ = state.release("conn-1", reusable: true)
        #expect(describe(state.acquire(id: 5, waiter: "e")) == "use conn-1")
    }

    @Test func poolStateRemovesWaitersAndRecordsFailures() {
        var state = PoolState<String, String>(capacity: 1)
        _ = state.acquire(id: 1, waiter: "a")
        _ = state.acquire(id: 2, waiter: "b")
        #expect(state.removeWaiter(id: 2) == "b")
        #expect(state.removeWaiter(id: 2) == nil)

        let now = ContinuousClock.now
        #expect(state.openFailed(PostgresError(code: .connectionFailed, message: "down"), now: now, backoff: .seconds(1)) == nil)
        #expect(state.taken == 0)
        #expect(state.consecutiveFailures == 1)
        #expect(state.retryNotBefore == now + .seconds(1))
        #expect(describe(state.acquire(id: 3, waiter: "c")) == "open")
        let opened = state.opened()
        #expect(opened)
        #expect(state.consecutiveFailures == 0)
        #expect(state.retryNotBefore == nil)
    }

    @Test func poolStateClose() {
        var state = PoolState<String, String>(capacity: 2)
        _ = state.acquire(id: 1, waiter: "a")
        _ = state.acquire(id: 2, waiter: "b")
        _ = state.release("idle", reusable: true)
        _ = state.acquire(id: 3, waiter: "c")  // takes "idle"
        _ = state.acquire(id: 4, waiter: "d")  // waits
        let closed = state.close()
        #expect(closed.idle.isEmpty)
        #expect(closed.waiters == ["d"])
        #expect(describe(state.acquire(id: 5, waiter: "e")) == "closed")
        #expect(state.release("idle", reusable: true).close == "idle")
        let opened = state.opened()
        #expect(!opened)
        #expect(state.taken == 0)
    }

    @Test func backoffGrowsWithJitterUpToTheCap() {
        let base = Duration.milliseconds(10)
        let cap = Duration.seconds(1)
        #expect(PostgresBackoff.delay(attempt: 1, base: base, cap: cap, random: 0) == .milliseconds(5))
        #expect(PostgresBackoff.delay(attempt: 1, base: base, cap: cap, random: 1) == .milliseconds(10))
        #expect(PostgresBackoff.delay(attempt: 3, base: base, cap: cap, random: 1) == .milliseconds(40))
        #expect(PostgresBackoff.delay(attempt: 20, base: base, cap: cap, random: 1) == .seconds(1))
        #expect(PostgresBackoff.delay(attempt: 20, base: base, cap: cap, random: 0) == .milliseconds(500))
    }

    @Test func migrationsAreOrderedAndDuplicatesRejected() throws {
        let ordered = try PostgresMigrator.ordered([
            PostgresMigration(version: 3, name: "c", sql: ""),
            PostgresMigration(version: 1, name: "a", sql: ""),
        ])
        #expect(ordered.map(\.version) == [1, 3])
        #expect {
            try PostgresMigrator.ordered([
                PostgresMigration(version: 1, name: "a", sql: ""),
                PostgresMigration(version: 1, name: "b", sql: ""),
            ])
        } throws: { error in
            (error as? PostgresError)?.code == .invalidConfiguration
        }
    }
}
