import AMQP
import Foundation
import Messaging

/// The headers an operator's replay adds to a parked message it sends back to work.
///
/// A replayed message keeps its history: every `x-orderly-*` header of its last parking and the
/// broker's `x-death` stay as they were, so that the service (and a later parking) sees what
/// happened to it before. Only its attempt count starts again: the service counts the attempts of
/// `x-orderly-attempts` against its retry tiers, so a message parked after its last tier would
/// otherwise be parked again at its first transient failure. The count it was parked with is kept
/// in ``attemptsBeforeReplay``.
public enum ReplayHeaders {
    /// How many times the message was replayed from a parking queue.
    public static let replays = "x-orderly-replays"
    /// When it was last replayed.
    public static let replayedAt = "x-orderly-replayed-at"
    /// The `x-orderly-attempts` the message had when it was last replayed.
    public static let attemptsBeforeReplay = "x-orderly-attempts-before-replay"
    /// Set by quorum queues on a message they deliver again; a replayed copy is a new delivery, so it goes.
    static let deliveryCount = "x-delivery-count"

    /// The properties of the copy of a parked message sent back to its work queue at `date`.
    ///
    /// Pure: the replay count goes up by one, the time of the replay is set and the attempt count
    /// moves to ``attemptsBeforeReplay``; everything else is kept, but the quorum queue's own delivery
    /// count. The copy is persistent.
    public static func replayed(_ properties: AMQPProperties, at date: Date) -> AMQPProperties {
        var replayed = properties
        let previous = properties.headers[replays]?.intValue ?? 0
        replayed.headers[replays] = .int64(max(previous, 0) + 1)
        replayed.headers[replayedAt] = .timestamp(date)
        replayed.headers[deliveryCount] = nil
        replayed.headers[attemptsBeforeReplay] = properties.headers[MessageHeaders.attempts]
        replayed.headers[MessageHeaders.attempts] = nil
        replayed.persistent = true
        return replayed
    }
}
