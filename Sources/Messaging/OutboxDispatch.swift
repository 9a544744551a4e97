import AMQP
import DequeModule
import Synchronization

/// Events handed from the transaction that wrote them straight to the broker, with the outbox row as the safety net.
///
/// Without it, every event costs the relay a wake-up, a claim, a round trip and a delete after its transaction
/// committed. With it, the transaction that writes an event into the outbox also marks its row *held* for a while
/// (``hold``) and, once `COMMIT` succeeded, hands the event to this process's dispatch; the ``OutboxRelay`` publishes
/// what was handed in the order it was handed over, many at a time, and the next transaction that writes to the outbox deletes the
/// rows the broker confirmed, in the same round trip as its own statements. The relay's claim leaves held rows
/// alone, so no two processes publish one row, and takes them over once the hold ran out: that is the case of a
/// process that died between its commit and the broker's confirm. Nothing is lost, and what is published twice is
/// what every consumer's inbox absorbs anyway.
///
/// When the broker does not take a handed event (it is away, an exchange is missing), the dispatch stops taking new
/// ones and drops what it was handed: their rows are in the outbox, and the relay, which now claims held rows too,
/// publishes them in order with its backoff, as it would without a dispatch. Once nothing is left failing, the
/// relay lets the dispatch take over again (`recover()`).
public final class OutboxDispatch: Sendable {
    /// A committed event, ready to publish.
    public struct Handed: Sendable {
        public var messageID: String
        public var publication: AMQPConnection.Publication

        public init(messageID: String, publication: AMQPConnection.Publication) {
            self.messageID = messageID
            self.publication = publication
        }
    }

    private struct State {
        var queue = Deque<Handed>()
        var waiter: CheckedContinuation<Void, Never>?
        /// Confirmed by the broker; their rows wait for a transaction to delete them.
        var published: [String] = []
        /// When the oldest of `published` was confirmed.
        var publishedSince: ContinuousClock.Instant?
        var degraded = false
        var stopped = false

        mutating func takeWaiter() -> CheckedContinuation<Void, Never>? {
            defer { waiter = nil }
            return waiter
        }
    }

    private let state = Mutex(State())
    /// How long the relay leaves a handed row alone: longer than a publish may wait for its confirm (10 s) and
    /// the row for its deletion, so that only a row whose process died is taken over; no longer, since that is
    /// how late such a row's event goes out.
    public let hold: Duration
    /// The most events published in one round.
    let batchSize: Int

    /// - Parameters:
    ///   - hold: how long the relay of any process leaves a handed row to this one.
    ///   - batchSize: the most events published in one round.
    public init(hold: Duration = .seconds(15), batchSize: Int = 500) {
        self.hold = hold
        self.batchSize = max(1, batchSize)
    }

    /// Whether transactions hand their events here: not while the relay is catching up after a failure, nor once
    /// stopped.
    public var isTakingEvents: Bool { state.withLock { !$0.degraded && !$0.stopped } }

    /// Whether the relay publishes held rows too, because handed events failed.
    var isDegraded: Bool { state.withLock { $0.degraded } }

    /// Takes events whose transaction committed; drops them while degraded or stopped (their rows stay for the relay).
    func hand(_ events: [Handed]) {
        guard !events.isEmpty else { return }
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.degraded && !state.stopped else { return nil }
            state.queue.append(contentsOf: events)
            return state.takeWaiter()
        }
        waiter?.resume()
    }

    /// What was handed, in order, up to ``batchSize``, waiting for the first; empty once stopped and drained.
    func next() async -> [Handed] {
        while true {
            let batch = state.withLock { state -> [Handed]? in
                guard state.queue.isEmpty else {
                    let count = min(batchSize, state.queue.count)
                    defer { state.queue.removeFirst(count) }
                    return Array(state.queue.prefix(count))
                }
                return state.stopped ? [] : nil
            }
            if let batch { return batch }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state in
                    guard state.queue.isEmpty && !state.stopped else { return true }
                    state.waiter = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        }
    }

    /// The broker confirmed these events: their rows may go.
    func confirmed(_ messageIDs: [String]) {
        guard !messageIDs.isEmpty else { return }
        state.withLock { state in
            if state.published.isEmpty { state.publishedSince = .now }
            state.published.append(contentsOf: messageIDs)
        }
    }

    /// Some handed events were not taken: the relay publishes everything from the outbox until ``recover()``.
    func degrade() {
        state.withLock { state in
            state.degraded = true
            state.queue.removeAll()
        }
    }

    /// Nothing is failing any more: transactions hand their events here again.
    func recover() { state.withLock { $0.degraded = false } }

    /// The rows confirmed published, for a transaction to delete; ``giveBack(_:)`` them if it does not commit.
    public func takePublished() -> [String] {
        state.withLock { state in
            defer { (state.published, state.publishedSince) = ([], nil) }
            return state.published
        }
    }

    /// Rows taken for deletion by a transaction that did not commit.
    public func giveBack(_ messageIDs: [String]) { confirmed(messageIDs) }

    /// Whether confirmed rows have waited longer than `delay` for a transaction to delete them.
    func publishedWaiting(longerThan delay: Duration) -> Bool {
        state.withLock { state in state.publishedSince.map { ContinuousClock.now - $0 > delay } ?? false }
    }

    /// Takes no more events; ``next()`` returns what is left, then nothing.
    func stop() {
        state.withLock { state in
            state.stopped = true
            return state.takeWaiter()
        }?.resume()
    }
}
