import AMQP
import Messaging

extension ParkingQueue {
    /// The first `limit` parked messages in full, and how many are parked; every one stays parked.
    ///
    /// - Throws: ``AMQP/AMQPError`` when the broker refuses (404: no such parking queue) or is away.
    package func details(limit: Int, on connection: AMQPConnection, wait: Duration = .seconds(2)) async throws -> (
        count: Int, messages: [ParkedMessageDetail]
    ) {
        let (count, deliveries) = try await take(limit: limit, on: connection, wait: wait)
        for delivery in deliveries { delivery.nack(requeue: true) }
        try await awaitReady(count, on: connection, within: wait)
        return (count, deliveries.map(ParkedMessageDetail.init))
    }

    /// Removes parked messages for good: among the first `limit`, those whose message ids are in `ids`;
    /// with `ids` `nil`, the whole queue at once. The others stay parked.
    ///
    /// - Returns: how many were removed, and those removed by id (none for the whole queue).
    package func purge(ids: Set<String>?, limit: Int = ParkingQueue.maxMessages, on connection: AMQPConnection, wait: Duration = .seconds(2))
        async throws -> (count: Int, removed: [ParkedMessage])
    {
        guard let ids else { return (Int(try await connection.purge(queue: queues.parkingQueue)), []) }
        let (count, deliveries) = try await take(limit: limit, on: connection, wait: wait)
        var removed: [ParkedMessage] = []
        for delivery in deliveries {
            if ids.contains(delivery.properties.messageID ?? "") {
                delivery.ack()
                removed.append(ParkedMessage(delivery: delivery))
            } else {
                delivery.nack(requeue: true)
            }
        }
        try await awaitReady(count - removed.count, on: connection, within: wait)
        return (removed.count, removed)
    }
}
