import Testing

@testable import Postgres

@Suite("Statement cache")
struct StatementCacheTests {
    @Test func aStatementIsPreparedAtItsSecondUseAndReusedAfter() {
        var cache = StatementCache(capacity: 4)
        #expect(cache.plan(for: "SELECT 1") == .unprepared)
        guard case .prepare(let name, nil) = cache.plan(for: "SELECT 1") else {
            Issue.record("expected to prepare")
            return
        }
        #expect(cache.plan(for: "SELECT 1") == .prepared(name: name))
        #expect(cache.plan(for: "SELECT 2") == .unprepared)
    }

    @Test func theLeastRecentlyUsedIsLetGoWhenFull() {
        var cache = StatementCache(capacity: 2)
        var names: [String: String] = [:]
        for sql in ["a", "b"] {
            _ = cache.plan(for: sql)
            guard case .prepare(let name, nil) = cache.plan(for: sql) else {
                Issue.record("expected to prepare \(sql)")
                return
            }
            names[sql] = name
        }
        _ = cache.plan(for: "a")  // a is used again, so b is now the oldest
        _ = cache.plan(for: "c")
        #expect(cache.plan(for: "c") == .prepare(name: "orderly_3", evicting: names["b"]))
        #expect(cache.plan(for: "a") == .prepared(name: names["a"]!))
        #expect(cache.plan(for: "b") == .unprepared)
    }

    @Test func aStatementThatCouldNotBePreparedRunsUnpreparedAndIsTriedAgainLater() {
        var cache = StatementCache()
        _ = cache.plan(for: "SELECT broken")
        _ = cache.plan(for: "SELECT broken")
        cache.forget("SELECT broken")
        #expect(cache.plan(for: "SELECT broken") == .unprepared)
    }
}
