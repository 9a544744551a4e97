import AMQP
import Contracts
import Foundation
import Messaging

/// A service's parking queue (`<service>.dead`), as the operator works on it: list, show, replay, purge.
///
/// Every operation takes the parked messages that are ready, with a consumer that holds them
/// unacknowledged, then settles each: what it replayed or removed is acknowledged, everything else
/// is handed back (`nack` with requeue). Nothing is lost if the command dies half-way: the broker
/// hands back what was never acknowledged when the connection goes. A replayed message is
/// acknowledged only after the broker confirmed its copy on the work queue, so a failure in between
/// leaves it parked (at worst a copy is on its way as well: delivery is at least once).
///
/// Messages another consumer holds at that moment (a second operator listing the same queue) are not seen.
public struct ParkingQueue: Sendable {
    public let queues: ServiceQueues
    private let connection: AMQPConnection

    public init(_ queues: ServiceQueues, on connection: AMQPConnection) {
        self.queues = queues
        self.connection = connection
    }

    /// `<service>.dead`.
    public var name: String { queues.parkingQueue }

    /// Which parked messages an operation is for.
    public enum Selection: Sendable, Hashable, CustomStringConvertible {
        case all
        /// Every parked message with this AMQP `message_id` (the event id).
        case messageID(String)

        func contains(_ message: ParkedMessage) -> Bool {
            switch self {
            case .all: true
            case .messageID(let id): message.messageID == id
            }
        }

        public var description: String {
            switch self {
            case .all: "every message"
            case .messageID(let id): "message id '\(id)'"
            }
        }
    }

    /// What a parking queue holds.
    public struct Listing: Sendable {
        /// Messages ready in the queue when it was read (the broker's count).
        public var count: Int
        /// The messages read, oldest first; fewer than `count` with a limit.
        public var messages: [ParkedMessage]
    }

    /// The parked messages, left parked.
    ///
    /// - Parameter limit: read at most this many (the count is always the queue's whole count).
    /// - Throws: ``AMQPError`` `.channelClosed` (404) when the parking queue does not exist.
    public func list(limit: Int? = nil) async throws -> Listing {
        try await withParked(limit: limit) { deliveries, ready in
            (Listing(count: ready, messages: deliveries.map(ParkedMessage.init)), settled: [])
        }
    }

    /// Sends the selected messages back to the service's work queue, keeping their history
    /// (``ReplayHeaders/replayed(_:at:)``); the service then processes them as any other delivery.
    ///
    /// - Returns: the messages replayed, as they were parked.
    /// - Throws: ``AMQPError`` when the queue does not exist or the broker is away; a message whose
    ///   copy the broker did not confirm stays parked, and the first such failure is thrown.
    public func replay(_ selection: Selection) async throws -> [ParkedMessage] {
        let workQueue = queues.workQueue
        let connection = self.connection
        return try await withParked(limit: nil) { deliveries, _ in
            let chosen = deliveries.filter { selection.contains(ParkedMessage($0)) }
            let now = Date()
            let outcomes = await connection.publish(
                chosen.map { delivery in
                    AMQPConnection.Publication(
                        AMQPMessage(body: delivery.body, properties: ReplayHeaders.replayed(delivery.properties, at: now)),
                        exchange: "", routingKey: workQueue)
                })
            var replayed: [ParkedMessage] = []
            var settled: Set<UInt64> = []
            var failure: AMQPError?
            for (delivery, outcome) in zip(chosen, outcomes) {
                switch outcome {
                case .success:
                    replayed.append(ParkedMessage(delivery))
                    settled.insert(delivery.deliveryTag)
                case .failure(let error):
                    failure = failure ?? error
                }
            }
            if let failure { throw ReplayFailure(replayed: replayed, settled: settled, error: failure) }
            return (replayed, settled)
        }
    }

    /// Removes the selected messages for good.
    ///
    /// - Returns: the messages removed (for ``Selection/all``, the queue is purged at once and only
    ///   their number is known: the result is then empty and the count is returned as well).
    public func purge(_ selection: Selection) async throws -> (count: Int, messages: [ParkedMessage]) {
        if selection == .all { return (Int(try await connection.purge(queue: name)), []) }
        let removed = try await withParked(limit: nil) { deliveries, _ in
            let chosen = deliveries.filter { selection.contains(ParkedMessage($0)) }
            return (chosen.map(ParkedMessage.init), Set(chosen.map(\.deliveryTag)))
        }
        return (removed.count, removed)
    }

    /// A replay that failed part-way: the messages before the failure were replayed all the same.
    struct ReplayFailure: Error {
        var replayed: [ParkedMessage]
        var settled: Set<UInt64>
        var error: AMQPError
    }

    /// Takes the ready messages (at most `limit`), runs `body` on them and the number ready, acknowledges
    /// those it says are settled and hands every other one back, whatever `body` does.
    private func withParked<T>(
        limit: Int?, _ body: (_ deliveries: [AMQPDelivery], _ ready: Int) async throws -> (T, settled: Set<UInt64>)
    ) async throws -> T {
        let ready = Int(try await connection.status(ofQueue: name).messageCount)
        let wanted = min(ready, limit ?? ready)
        guard wanted > 0 else { return try await body([], ready).0 }
        // Prefetch 0 is no limit: every message is held at once, so none comes twice.
        let consumer = try await connection.consume(queue: name, prefetch: wanted <= Int(UInt16.max) ? UInt16(wanted) : 0)
        // The messages are ready, so they come at once; the wait only matters when another consumer took some.
        let deliveries = try await consumer.collect(wanted, within: .seconds(3) + .milliseconds(wanted))
        consumer.cancel()
        do {
            let (result, settled) = try await body(deliveries, ready)
            await settle(deliveries, acknowledging: settled, readyBefore: ready)
            return result
        } catch let failure as ReplayFailure {
            await settle(deliveries, acknowledging: failure.settled, readyBefore: ready)
            throw ReplayError(queue: name, replayed: failure.replayed, underlying: failure.error)
        } catch {
            await settle(deliveries, acknowledging: [], readyBefore: ready)
            throw error
        }
    }

    /// Acknowledges the settled deliveries and hands the others back, then waits (a few seconds at most)
    /// until the broker counts those handed back as ready again: settling is asynchronous, and the next
    /// operation on the queue, which starts from that count, must see them.
    private func settle(_ deliveries: [AMQPDelivery], acknowledging settled: Set<UInt64>, readyBefore ready: Int) async {
        for delivery in deliveries {
            if settled.contains(delivery.deliveryTag) { delivery.ack() } else { delivery.nack(requeue: true) }
        }
        let expected = ready - deliveries.count { settled.contains($0.deliveryTag) }
        let deadline = ContinuousClock.now + .seconds(3)
        while ContinuousClock.now < deadline {
            // Parkings in between only add; another operator holding some is the one case that waits the whole time.
            guard let status = try? await connection.status(ofQueue: name), Int(status.messageCount) < expected else { return }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}

/// Some parked messages could not be replayed: the broker did not confirm their copies. They stay parked.
public struct ReplayError: Error, CustomStringConvertible {
    public var queue: String
    /// Those that were replayed before the failure.
    public var replayed: [ParkedMessage]
    public var underlying: AMQPError

    public var description: String {
        "replayed \(replayed.count) message(s) from \(queue), then the broker refused a copy (the rest stay parked): \(underlying)"
    }
}
