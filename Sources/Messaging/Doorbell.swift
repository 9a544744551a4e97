import Synchronization

/// Wakes one waiting task: rung by a notification, waited on with a time limit.
///
/// A ring with nobody waiting is remembered, so the next wait returns at once; rings do not
/// accumulate beyond one.
final class Doorbell: Sendable {
    private let state = Mutex<(rung: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    func ring() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.rung = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns after a ring, or after `timeout` at the latest.
    func wait(upTo timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // Cancelled means a ring already woke the waiter; ringing now would leave a stale
                // ring behind and make the next wait return at once, turning waits into a busy loop.
                guard (try? await Task.sleep(for: timeout)) != nil else { return }
                self.ring()
            }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let alreadyRung = state.withLock { state in
                    guard state.rung else {
                        state.waiter = continuation
                        return false
                    }
                    state.rung = false
                    return true
                }
                if alreadyRung { continuation.resume() }
            }
            group.cancelAll()
        }
    }
}
