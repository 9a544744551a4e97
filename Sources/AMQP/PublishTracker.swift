import DequeModule

/// A message waiting to be published or confirmed, and whom to tell when it is settled.
struct PendingPublish: Sendable {
    var message: AMQPMessage
    var exchange: String
    var routingKey: String
    var mandatory: Bool
    var deadline: ContinuousClock.Instant
    /// Called once, on the I/O thread, when the broker confirms or refuses the message or it times out.
    var completion: @Sendable (Result<Void, AMQPError>) -> Void
}

/// A settled publish: the completion to call and its result.
struct PublishSettlement {
    var completion: @Sendable (Result<Void, AMQPError>) -> Void
    var result: Result<Void, AMQPError>

    func callAsFunction() { completion(result) }
}

/// The bookkeeping of publisher confirms, with no I/O: messages waiting for the window, messages
/// sent and awaiting `basic.ack`, and what happens to each on ack, nack, return, timeout and
/// connection loss.
///
/// Invariants: every publish is settled exactly once; a publish sent on a connection that is lost
/// before its confirm goes back to the front of the queue, in order, to be sent again (so the
/// broker may see it twice, never zero times).
struct PublishTracker {
    private struct InFlight {
        var sequence: UInt64
        var publish: PendingPublish
        /// Cleared once the publish has been settled early (timeout), so it is not settled twice.
        var settled = false
        var returned: AMQPError?
    }

    let window: Int
    private var waiting = Deque<PendingPublish>()
    private var inFlight = Deque<InFlight>()
    private var nextSequence: UInt64 = 1
    /// No unsettled deadline is earlier: lowered by every enqueue, made exact by every ``expire(now:error:)``
    /// that finds it passed, so that the messages are looked at only when one may have expired.
    private var deadlineBound: ContinuousClock.Instant?

    init(window: Int) {
        precondition(window > 0, "the publish window must hold at least one message")
        self.window = window
    }

    /// Messages not yet handed to the broker.
    var waitingCount: Int { waiting.count }
    /// Messages sent and not yet confirmed.
    var unconfirmedCount: Int { inFlight.count }
    /// Whether a message is waiting and the window has room for it.
    var canSend: Bool { !waiting.isEmpty && inFlight.count < window }

    mutating func enqueue(_ publish: PendingPublish) {
        waiting.append(publish)
        deadlineBound = min(deadlineBound ?? publish.deadline, publish.deadline)
    }

    /// Takes the next message to send and records it under its confirm sequence number.
    mutating func next() -> PendingPublish? {
        guard canSend, let publish = waiting.popFirst() else { return nil }
        inFlight.append(InFlight(sequence: nextSequence, publish: publish))
        nextSequence += 1
        return publish
    }

    /// A `basic.ack` (or `basic.nack` when `error` is set) for `tag`, or everything up to it when `multiple`.
    mutating func settle(tag: UInt64, multiple: Bool, error: AMQPError? = nil) -> [PublishSettlement] {
        var settled: [PublishSettlement] = []
        func finish(_ entry: InFlight) {
            guard !entry.settled else { return }
            let failure = error ?? entry.returned
            settled.append(PublishSettlement(completion: entry.publish.completion, result: failure.map { .failure($0) } ?? .success(())))
        }
        if multiple {
            while let first = inFlight.first, first.sequence <= tag {
                finish(inFlight.removeFirst())
            }
        } else if let index = inFlight.firstIndex(where: { $0.sequence == tag }) {
            finish(inFlight.remove(at: index))
        }
        return settled
    }

    /// A `basic.return`: the broker could not route the message. It is confirmed later, and fails then.
    ///
    /// The return carries no sequence number, but the broker routes a channel's messages in order,
    /// so it belongs to the oldest unconfirmed, not yet returned message with the same address and id.
    mutating func markReturned(exchange: String, routingKey: String, messageID: String?, error: AMQPError) {
        let index = inFlight.firstIndex {
            $0.returned == nil && $0.publish.exchange == exchange && $0.publish.routingKey == routingKey
                && $0.publish.message.properties.messageID == messageID
        }
        if let index { inFlight[index].returned = error }
    }

    /// The connection is gone: unconfirmed messages go back to the front of the queue, in order,
    /// and confirm numbering starts again at 1 on the next channel.
    mutating func connectionLost() {
        _ = channelLost(failing: { _ in nil })
    }

    /// The publishing channel is gone: messages for which `failing` gives an error fail with it;
    /// the other unconfirmed ones go back to the front of the queue, in order, to be sent again.
    mutating func channelLost(failing: (PendingPublish) -> AMQPError?) -> [PublishSettlement] {
        var settled: [PublishSettlement] = []
        var requeued: [PendingPublish] = []
        for entry in inFlight where !entry.settled {
            if let error = failing(entry.publish) {
                settled.append(PublishSettlement(completion: entry.publish.completion, result: .failure(error)))
            } else {
                requeued.append(entry.publish)
            }
        }
        inFlight.removeAll()
        waiting.insert(contentsOf: requeued, at: 0)
        nextSequence = 1
        return settled
    }

    /// Fails every publish whose deadline has passed with `error(publish)`.
    ///
    /// Each call of `publish` brings its own timeout, so a short one may wait behind a long one:
    /// every message is looked at, not only the oldest.
    mutating func expire(now: ContinuousClock.Instant, error: (PendingPublish) -> AMQPError) -> [PublishSettlement] {
        guard let bound = deadlineBound, bound <= now else { return [] }
        var settled: [PublishSettlement] = []
        waiting.removeAll { publish in
            guard publish.deadline <= now else { return false }
            settled.append(PublishSettlement(completion: publish.completion, result: .failure(error(publish))))
            return true
        }
        for index in inFlight.indices where !inFlight[index].settled && inFlight[index].publish.deadline <= now {
            inFlight[index].settled = true
            settled.append(PublishSettlement(completion: inFlight[index].publish.completion, result: .failure(error(inFlight[index].publish))))
        }
        let inFlightDeadline = inFlight.lazy.filter { !$0.settled }.map(\.publish.deadline).min()
        deadlineBound = [waiting.lazy.map(\.deadline).min(), inFlightDeadline].compactMap { $0 }.min()
        return settled
    }

    /// Fails everything, for a connection closed by the application.
    mutating func failAll(_ error: AMQPError) -> [PublishSettlement] {
        let all = inFlight.filter { !$0.settled }.map(\.publish) + Array(waiting)
        inFlight.removeAll()
        waiting.removeAll()
        deadlineBound = nil
        return all.map { PublishSettlement(completion: $0.completion, result: .failure(error)) }
    }

    /// The earliest deadline of a publish not yet settled, to wake up for.
    ///
    /// A lower bound: a message settled since the last ``expire(now:error:)`` may have had it, and waking
    /// for it then costs one look at the messages, which makes it exact again.
    var earliestDeadline: ContinuousClock.Instant? { deadlineBound }
}
