import DequeModule
import Synchronization

/// Deliveries waiting to be handled, taken in batches: whatever has arrived, up to a maximum, and at
/// least one (waiting for it).
final class DeliveryBuffer<Element: Sendable>: Sendable {
    private struct State {
        var deliveries = Deque<Element>()
        var waiter: CheckedContinuation<Void, Never>?
        var finished = false
    }

    private let state = Mutex(State())

    /// Adds a delivery; wakes a waiting `next`.
    func append(_ delivery: Element) {
        let waiter = state.withLock { state in
            state.deliveries.append(delivery)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// No more deliveries will come; `next` returns what is left, then empty batches.
    func finish() {
        let waiter = state.withLock { state in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Up to `limit` deliveries, in arrival order, waiting for the first; empty once finished and drained.
    func next(upTo limit: Int) async -> [Element] {
        while true {
            let batch = state.withLock { state -> [Element]? in
                guard state.deliveries.isEmpty else {
                    let count = min(limit, state.deliveries.count)
                    defer { state.deliveries.removeFirst(count) }
                    return Array(state.deliveries.prefix(count))
                }
                return state.finished ? [] : nil
            }
            if let batch { return batch }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state in
                    guard state.deliveries.isEmpty && !state.finished else { return true }
                    state.waiter = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        }
    }
}
