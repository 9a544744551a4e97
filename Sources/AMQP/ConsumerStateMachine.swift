import Timing

/// The lifecycle of one consumer, with no I/O: what each event from the application, the broker
/// or the connection does to it, and what the I/O loop must do in answer.
///
/// ```
///            start ok                   lost / cancelled or channel closed by the broker
/// registered ────────▶ consuming ◀────────────────────────────────▶ stopped (retry at …)
///     │ start failed        │ cancel                          start ok   │ cancel
///     ▼                     ▼                                            ▼
///  finished ◀────────── cancelling ── lost, channel closed ──▶ finished ◀┘
/// ```
///
/// A consumer's first start answers the caller of `consume`, who can see and fix what failed (a
/// missing queue); every start after that is a recovery, retried with backoff and only logged.
/// Deliveries and acknowledgements carry the *epoch* of the channel that delivered them: once
/// the channel is gone the broker delivers those messages again, so acknowledgements of an older
/// epoch are dropped. A consumer the broker cancelled keeps its channel, and with it the epoch:
/// what it was given before the cancel can still be acknowledged, and a restart on the same
/// channel goes on in the same epoch.
struct ConsumerStateMachine: Sendable {
    enum State: Hashable, Sendable {
        /// Waiting for its first start; the caller of `consume` is waiting too.
        case registered
        /// Consuming on a channel opened in `epoch`.
        case consuming(epoch: UInt64)
        /// Not consuming (the connection was lost, or the broker cancelled it or closed its
        /// channel); to be started again at `retryAt`. `failures` counts failed restarts in a row;
        /// `channelEpoch` is the epoch of its channel while that is still open (the broker cancelled it).
        case stopped(retryAt: ContinuousClock.Instant, failures: Int, channelEpoch: UInt64? = nil)
        /// Cancelled by the application: no more deliveries, but the channel stays open so that
        /// what it already delivered can still be acknowledged (a graceful shutdown acks what committed).
        case cancelling(epoch: UInt64)
        /// Gone for good; the loop forgets it.
        case finished
    }

    /// What the loop does in answer to an event, in order.
    enum Action: Equatable, Sendable {
        /// Answers the caller of `consume`: `nil` for success, or why the first start failed.
        case answerRegistration(failure: AMQPError?)
        /// Records the consumer's health for the connection's readers: `nil` while it consumes.
        case recordFailure(AMQPError?)
        /// Ends the application's stream of deliveries.
        case finishDeliveries
        /// Sends `basic.cancel` on the consumer's channel.
        case cancelOnBroker
        /// Logs that a restart failed and when the next one is.
        case warnRestartFailed(AMQPError, attempt: Int)
        /// Logs that the broker cancelled the consumer (its queue was deleted, or its leader moved).
        case warnCancelledByBroker
        /// Forgets the consumer.
        case remove
    }

    private(set) var state = State.registered
    let backoff: Backoff
    private var warnings = Throttle(every: .seconds(60))

    init(backoff: Backoff) {
        self.backoff = backoff
    }

    /// Whether the loop should start the consumer now (it has a connection).
    func wantsStart(at now: ContinuousClock.Instant) -> Bool {
        switch state {
        case .registered: true
        case .stopped(let retryAt, _, _): retryAt <= now
        case .consuming, .cancelling, .finished: false
        }
    }

    private var isStopped: Bool {
        if case .stopped = state { return true }
        return false
    }

    /// The epoch a new delivery belongs to, or `nil` when the consumer takes no more deliveries
    /// and the message goes back to the queue.
    var deliveryEpoch: UInt64? {
        guard case .consuming(let epoch) = state else { return nil }
        return epoch
    }

    /// Whether an acknowledgement of a delivery made in `epoch` still reaches the channel that made it.
    func acknowledges(epoch: UInt64) -> Bool { channelEpoch == epoch }

    /// The epoch of the consumer's channel while it is open; a start on that channel goes on in it.
    var channelEpoch: UInt64? {
        switch state {
        case .consuming(let epoch), .cancelling(let epoch): epoch
        case .stopped(_, _, let epoch): epoch
        case .registered, .finished: nil
        }
    }

    /// `basic.consume` succeeded on a channel of `epoch`: ``channelEpoch`` when the channel stayed open, else a new one.
    mutating func started(epoch: UInt64) -> [Action] {
        let wasRegistered = state == .registered
        guard wasRegistered || isStopped else { return [] }
        state = .consuming(epoch: epoch)
        warnings.reset()
        return wasRegistered ? [.recordFailure(nil), .answerRegistration(failure: nil)] : [.recordFailure(nil)]
    }

    /// Starting failed for a reason other than the connection's loss (which ``connectionLost()`` handles).
    mutating func startFailed(_ error: AMQPError, at now: ContinuousClock.Instant) -> [Action] {
        switch state {
        case .registered:
            state = .finished
            return [.finishDeliveries, .answerRegistration(failure: error), .remove]
        case .stopped(_, let failures, _):
            // A method that fails closes its channel: whatever it delivered comes again.
            state = .stopped(retryAt: now + backoff.delay(attempt: failures), failures: failures + 1)
            var actions = [Action.recordFailure(error)]
            if warnings.allows(cause: "\(error.code) \(error.replyCode ?? 0)", at: now) {
                actions.append(.warnRestartFailed(error, attempt: failures + 1))
            }
            return actions
        case .consuming, .cancelling, .finished:
            return []
        }
    }

    /// The broker sent `basic.cancel`: the queue was deleted, or its leader moved to another node.
    mutating func cancelledByBroker(at now: ContinuousClock.Instant) -> [Action] {
        guard case .consuming(let epoch) = state else { return [] }
        state = .stopped(retryAt: now + backoff.initial, failures: 0, channelEpoch: epoch)
        return [.warnCancelledByBroker]
    }

    /// The broker closed the consumer's channel: it consumes again after the initial backoff.
    mutating func channelClosed(at now: ContinuousClock.Instant) -> [Action] {
        channelGone(restartAt: now + backoff.initial)
    }

    /// The connection was lost: a consuming consumer starts again as soon as there is a new one.
    mutating func connectionLost(at now: ContinuousClock.Instant) -> [Action] {
        channelGone(restartAt: now)
    }

    /// The consumer's channel is gone, and with it whatever it delivered: a consumer that consumed starts
    /// again at `restartAt`, one stopped by the broker's cancel keeps its time but loses its epoch, and a
    /// cancelling one is forgotten.
    private mutating func channelGone(restartAt: ContinuousClock.Instant) -> [Action] {
        switch state {
        case .consuming:
            state = .stopped(retryAt: restartAt, failures: 0)
            return []
        case .stopped(let retryAt, let failures, .some):
            state = .stopped(retryAt: retryAt, failures: failures)
            return []
        case .cancelling:
            state = .finished
            return [.remove]
        case .registered, .stopped, .finished:
            return []
        }
    }

    /// The application cancelled the consumer.
    mutating func cancel() -> [Action] {
        switch state {
        case .consuming(let epoch):
            state = .cancelling(epoch: epoch)
            return [.recordFailure(nil), .finishDeliveries, .cancelOnBroker]
        case .registered:
            state = .finished
            let error = AMQPError(.closed, "the consumer was cancelled before it started")
            return [.recordFailure(nil), .finishDeliveries, .answerRegistration(failure: error), .remove]
        case .stopped:
            state = .finished
            return [.recordFailure(nil), .finishDeliveries, .remove]
        case .cancelling, .finished:
            return []
        }
    }
}
