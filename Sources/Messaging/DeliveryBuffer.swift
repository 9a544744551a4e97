import DequeModule
import Synchronization

/// Deliveries waiting to be handled, taken in batches: whatever has arrived, up to a maximum, and at
/// least one (waiting for it); while the ``BatchRhythm`` says more are coming, a batch lingers for them.
final class DeliveryBuffer<Element: Sendable>: Sendable {
    private struct State {
        var deliveries = Deque<Element>()
        var waiter: CheckedContinuation<Void, Never>?
        /// How many deliveries wake the waiter.
        var wanted = 1
        /// The time limit of the current wait has passed.
        var expired = false
        var finished = false

        var satisfied: Bool { finished || expired || deliveries.count >= wanted }

        /// The waiter, taken out, when what it waits for is there.
        mutating func takeWaiterIfSatisfied() -> CheckedContinuation<Void, Never>? {
            guard satisfied else { return nil }
            defer { waiter = nil }
            return waiter
        }
    }

    private let state = Mutex(State())

    /// Adds a delivery; wakes a waiting `next` once it has what it waits for.
    func append(_ delivery: Element) {
        let waiter = state.withLock { state in
            state.deliveries.append(delivery)
            return state.takeWaiterIfSatisfied()
        }
        waiter?.resume()
    }

    /// No more deliveries will come; `next` returns what is left, then empty batches.
    func finish() {
        let waiter = state.withLock { state in
            state.finished = true
            return state.takeWaiterIfSatisfied()
        }
        waiter?.resume()
    }

    /// Up to `limit` deliveries, in arrival order, waiting for the first; empty once finished and drained.
    func next(upTo limit: Int) async -> [Element] {
        var rhythm = BatchRhythm(limit: limit, linger: .zero)
        return await next(&rhythm)
    }

    /// Up to `rhythm.limit` deliveries, in arrival order, waiting for the first, and lingering for more when
    /// `rhythm` says so; empty once finished and drained. Records the batch's size in `rhythm`.
    func next(_ rhythm: inout BatchRhythm) async -> [Element] {
        await wait(for: 1, upTo: nil)
        if rhythm.shouldLinger(waiting: state.withLock { $0.deliveries.count }) {
            await wait(for: rhythm.limit, upTo: rhythm.linger)
        }
        let batch = state.withLock { state in
            let count = min(rhythm.limit, state.deliveries.count)
            defer { state.deliveries.removeFirst(count) }
            return Array(state.deliveries.prefix(count))
        }
        rhythm.closed(batch.count)
        return batch
    }

    /// Returns once `count` deliveries are waiting or the buffer is finished, or after `timeout` at the latest.
    private func wait(for count: Int, upTo timeout: Duration?) async {
        let ready = state.withLock { state in
            (state.wanted, state.expired) = (count, false)
            return state.satisfied
        }
        guard !ready else { return }
        guard let timeout else { return await suspend() }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // Cancelled means the deliveries came first.
                guard (try? await Task.sleep(for: timeout)) != nil else { return }
                self.state.withLock { state in
                    state.expired = true
                    return state.takeWaiterIfSatisfied()
                }?.resume()
            }
            await suspend()
            group.cancelAll()
        }
    }

    /// Suspends until `append`, `finish` or the time limit finds the wait satisfied.
    private func suspend() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state in
                guard !state.satisfied else { return true }
                state.waiter = continuation
                return false
            }
            if ready { continuation.resume() }
        }
    }
}
