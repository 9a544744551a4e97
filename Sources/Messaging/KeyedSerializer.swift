import Synchronization

/// Runs work one key at a time, in the order it arrives: work for a key waits until the work for
/// that key before it has finished; work for other keys runs alongside.
///
/// The consumer uses it with the event's subject (the order id, or the SKU), so that two events
/// about one order or one SKU delivered together are handled in the order the broker delivered
/// them — a `stock.adjusted` of +7 before the −2 that follows it — while different orders are
/// handled concurrently.
final class KeyedSerializer: Sendable {
    /// Open once the work it guards has finished.
    private final class Gate: Sendable {
        private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

        func wait() async {
            await withCheckedContinuation { continuation in
                let isOpen = state.withLock { state in
                    if !state.open { state.waiters.append(continuation) }
                    return state.open
                }
                if isOpen { continuation.resume() }
            }
        }

        func open() {
            let waiters = state.withLock { state in
                state.open = true
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    private let tails = Mutex<[String: Gate]>([:])

    /// Runs `work` after the earlier work for `key` has finished.
    func run<T>(key: String, _ work: () async throws -> T) async rethrows -> T {
        let gate = Gate()
        let previous = tails.withLock { tails in
            defer { tails[key] = gate }
            return tails[key]
        }
        await previous?.wait()
        defer {
            gate.open()
            tails.withLock { tails in
                if tails[key] === gate { tails[key] = nil }
            }
        }
        return try await work()
    }
}
