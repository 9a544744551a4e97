/// Which statements of one connection are worth preparing, and under which names: a statement
/// seen a second time is prepared, and the least recently used is let go when the cache is full.
///
/// Preparing saves the server parsing and planning a statement at every execution, which is most of
/// the cost of the short statements a service runs thousands of times a second; a statement run once
/// (a migration, an ad hoc query) is not worth the extra round trip of preparing it.
///
/// Pure bookkeeping: the connection does the `PQprepare` and `DEALLOCATE` it is told to.
struct StatementCache {
    /// What to do with a statement about to run.
    enum Plan: Equatable {
        /// Run it unprepared.
        case unprepared
        /// Run the statement prepared under this name.
        case prepared(name: String)
        /// Prepare it under `name` first (after deallocating `evicting`, if set), then run it.
        case prepare(name: String, evicting: String?)
    }

    let capacity: Int
    private var names: [String: String] = [:]
    private var lastUse: [String: UInt64] = [:]
    private var seen: Set<String> = []
    private var clock: UInt64 = 0
    private var counter = 0

    init(capacity: Int = 256) { self.capacity = capacity }

    mutating func plan(for sql: String) -> Plan {
        clock += 1
        if let name = names[sql] {
            lastUse[sql] = clock
            return .prepared(name: name)
        }
        guard seen.contains(sql) else {
            // Remembered until its second use; bounded, since the set is cleared when it grows large.
            if seen.count >= capacity * 4 { seen.removeAll(keepingCapacity: true) }
            seen.insert(sql)
            return .unprepared
        }
        var evicted: String?
        if names.count >= capacity, let oldest = lastUse.min(by: { $0.value < $1.value })?.key {
            evicted = names.removeValue(forKey: oldest)
            lastUse[oldest] = nil
        }
        counter += 1
        let name = "orderly_\(counter)"
        names[sql] = name
        lastUse[sql] = clock
        seen.remove(sql)
        return .prepare(name: name, evicting: evicted)
    }

    /// Forgets a statement whose preparation failed, so that it runs unprepared.
    mutating func forget(_ sql: String) {
        names[sql] = nil
        lastUse[sql] = nil
    }

    /// Forgets everything: the connection's session (and its prepared statements) is gone.
    mutating func reset() {
        names.removeAll()
        lastUse.removeAll()
        seen.removeAll()
    }
}
