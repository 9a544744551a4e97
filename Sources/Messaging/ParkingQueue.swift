import AMQP
import Foundation
import MessagingConventions

/// A service's parking queue as its operator sees it: a bounded look that leaves every message where
/// it was, and a replay that sends messages back to the work queue with their history.
///
/// Both read the queue with a consumer of their own, on a connection the caller owns; a short-lived
/// connection is best, since whatever is still unsettled when it closes goes back to the queue. Messages
/// another reader holds unacknowledged at the same moment are not seen. The parking queue has no
/// delivery limit, so a look (which hands messages back with `basic.nack`) never loses one.
public struct ParkingQueue: Sendable, Hashable {
    public let queues: ServiceQueues

    public init(queues: ServiceQueues) {
        self.queues = queues
    }

    /// The most messages one look or replay reads.
    public static let maxMessages = 1000

    /// What a look found: how many messages are parked, and the first of them.
    public struct Listing: Sendable, Hashable {
        public var queue: String
        /// Messages ready in the parking queue.
        public var count: Int
        /// The first `limit` of them, oldest first.
        public var messages: [ParkedMessage]

        public init(queue: String, count: Int, messages: [ParkedMessage]) {
            self.queue = queue
            self.count = count
            self.messages = messages
        }
    }

    /// Reads up to `limit` parked messages and hands every one back.
    ///
    /// - Parameters:
    ///   - limit: the most messages read.
    ///   - connection: the broker connection to read them on.
    ///   - wait: how long to wait for the messages the queue said it holds.
    /// - Throws: `AMQPError` when the broker refuses or is away.
    public func peek(limit: Int, on connection: AMQPConnection, wait: Duration = .seconds(2)) async throws -> Listing {
        let (count, deliveries) = try await take(limit: limit, on: connection, wait: wait)
        for delivery in deliveries { delivery.nack(requeue: true) }
        try await awaitReady(count, on: connection, within: wait)
        return Listing(queue: queues.parkingQueue, count: count, messages: deliveries.map(ParkedMessage.init(delivery:)))
    }

    /// Waits, at most `timeout`, until the queue holds `count` ready messages again: the broker puts a message
    /// handed back to a quorum queue back in place a moment after the `basic.nack`, and a look that returned
    /// before that would make the next one, or a replay, see fewer than there are.
    public func awaitReady(_ count: Int, on connection: AMQPConnection, within timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await connection.status(ofQueue: queues.parkingQueue).messageCount < count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Sends parked messages back to the work queue: among the first `limit`, those whose message ids are in
    /// `ids`, or all of them when `ids` is `nil`. The others stay parked.
    ///
    /// Each copy is published with a confirm before its original is acknowledged, so a failure in between
    /// leaves the message parked, or at worst both parked and replayed (the consumer's inbox makes the
    /// second handling a no-op). The copy keeps the message's headers as its history (see ``replayed(_:at:)``).
    ///
    /// - Returns: the message ids replayed, in queue order.
    /// - Throws: `AMQPError` when the broker refuses or is away; what was confirmed by then is replayed.
    public func replay(ids: Set<String>?, limit: Int, on connection: AMQPConnection, wait: Duration = .seconds(2), now: Date = Date())
        async throws -> [String]
    {
        let (count, deliveries) = try await take(limit: limit, on: connection, wait: wait)
        var chosen: [AMQPDelivery] = []
        for delivery in deliveries {
            if let ids, !ids.contains(delivery.properties.messageID ?? "") {
                delivery.nack(requeue: true)
            } else {
                chosen.append(delivery)
            }
        }
        let results = await connection.publish(
            chosen.map { delivery in
                AMQPConnection.Publication(
                    AMQPMessage(body: delivery.body, properties: Self.replayed(delivery.properties, at: now)), exchange: "",
                    routingKey: queues.workQueue)
            })
        var replayed: [String] = []
        var failure: AMQPError?
        for (delivery, result) in zip(chosen, results) {
            switch result {
            case .success:
                delivery.ack()
                replayed.append(delivery.properties.messageID ?? "")
            case .failure(let error):
                delivery.nack(requeue: true)
                failure = failure ?? error
            }
        }
        if let failure { throw failure }
        try await awaitReady(count - replayed.count, on: connection, within: wait)
        return replayed
    }

    /// The properties of a parked message as it goes back to work: its attempts start again from 1, and
    /// `MessageHeaders.replays` and `MessageHeaders.replayedAt` say that and when it was replayed. Why,
    /// when and after how many attempts it was parked, its last error and where it first came from stay.
    public static func replayed(_ properties: AMQPProperties, at now: Date) -> AMQPProperties {
        var properties = properties
        let replays = properties.headers[MessageHeaders.replays]?.intValue.map { max(0, min($0, Int64(Int32.max) - 1)) } ?? 0
        properties.headers[MessageHeaders.previousAttempts] = properties.headers[MessageHeaders.attempts]
        properties.headers[MessageHeaders.attempts] = nil
        properties.headers[MessageHeaders.replays] = .int64(replays + 1)
        properties.headers[MessageHeaders.replayedAt] = .timestamp(now)
        properties.persistent = true
        return properties
    }

    /// Reads up to `limit` messages, unsettled, and how many the queue held: for an operation of its own
    /// (the operator's CLI shows and purges with it), which must settle every delivery and then
    /// ``awaitReady(_:on:within:)`` the number it handed back.
    public func take(limit: Int, on connection: AMQPConnection, wait: Duration) async throws -> (count: Int, deliveries: [AMQPDelivery]) {
        let count = Int(try await connection.status(ofQueue: queues.parkingQueue).messageCount)
        let wanted = min(count, max(0, min(limit, Self.maxMessages)))
        guard wanted > 0 else { return (count, []) }
        let consumer = try await connection.consume(queue: queues.parkingQueue, prefetch: UInt16(wanted))
        let deliveries = try await consumer.collect(wanted, within: wait)
        consumer.cancel()
        return (count, deliveries)
    }
}

/// One parked message as an operator reads it: what it is, and why, when and after how many attempts it was parked.
///
/// Read from headers anyone allowed to publish could have written: a header of another type reads as absent.
public struct ParkedMessage: Encodable, Sendable, Hashable {
    public var messageID: String?
    public var type: String?
    /// The order (or SKU) it is about: the AMQP `correlation_id`.
    public var subject: String?
    public var reason: String?
    public var lastError: String?
    public var parkedAt: Date?
    public var attempts: Int?
    /// `transient` (retries exhausted) or `permanent`.
    public var failureKind: String?
    public var originalExchange: String?
    public var originalRoutingKey: String?
    /// How many times it was replayed before.
    public var replays: Int
    public var bodyBytes: Int

    public init(delivery: AMQPDelivery) {
        self.init(properties: delivery.properties, bodyBytes: delivery.body.count)
    }

    public init(properties: AMQPProperties, bodyBytes: Int) {
        let headers = properties.headers
        messageID = properties.messageID
        type = properties.type
        subject = properties.correlationID
        reason = headers[MessageHeaders.parkedReason]?.stringValue
        lastError = headers[MessageHeaders.lastError]?.stringValue
        if case .timestamp(let date) = headers[MessageHeaders.parkedAt] { parkedAt = date }
        attempts = headers[MessageHeaders.attempts]?.intValue.flatMap { Int(exactly: $0) }
        failureKind = headers[MessageHeaders.failureKind]?.stringValue
        originalExchange = headers[MessageHeaders.originalExchange]?.stringValue
        originalRoutingKey = headers[MessageHeaders.originalRoutingKey]?.stringValue
        replays = headers[MessageHeaders.replays]?.intValue.flatMap { Int(exactly: $0) } ?? 0
        self.bodyBytes = bodyBytes
    }

    enum CodingKeys: String, CodingKey {
        case type, subject, reason, attempts, replays
        case messageID = "message_id"
        case lastError = "last_error"
        case parkedAt = "parked_at"
        case failureKind = "failure_kind"
        case originalExchange = "original_exchange"
        case originalRoutingKey = "original_routing_key"
        case bodyBytes = "body_bytes"
    }

    /// snake_case keys, absent headers left out, `parked_at` in RFC 3339 UTC.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(messageID, forKey: .messageID)
        try container.encodeIfPresent(type, forKey: .type)
        try container.encodeIfPresent(subject, forKey: .subject)
        try container.encodeIfPresent(reason, forKey: .reason)
        try container.encodeIfPresent(lastError, forKey: .lastError)
        try container.encodeIfPresent(parkedAt.map(CloudEvent.format), forKey: .parkedAt)
        try container.encodeIfPresent(attempts, forKey: .attempts)
        try container.encodeIfPresent(failureKind, forKey: .failureKind)
        try container.encodeIfPresent(originalExchange, forKey: .originalExchange)
        try container.encodeIfPresent(originalRoutingKey, forKey: .originalRoutingKey)
        try container.encode(replays, forKey: .replays)
        try container.encode(bodyBytes, forKey: .bodyBytes)
    }
}

extension MessageHeaders {
    /// How many times an operator sent the message back from the parking queue.
    public static let replays = "x-orderly-replays"
    /// When it was last sent back.
    public static let replayedAt = "x-orderly-replayed-at"
    /// The attempts it had made when it was last sent back (its attempts then start again from 1).
    public static let previousAttempts = "x-orderly-previous-attempts"
}
