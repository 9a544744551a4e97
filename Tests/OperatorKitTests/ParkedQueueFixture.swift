import AMQP
import Foundation
import Messaging
import MessagingConventions
import OperatorKit
import TestSupport
import Testing

/// A service of its own on the test broker (work queue, one short retry tier, parking queue), with
/// messages parked the way `MessageConsumer` parks them: through a retry tier first, so that they
/// carry the broker's `x-death` as well as Orderly's headers.
struct ParkedQueueFixture {
    let queues: ServiceQueues
    let connection: AMQPConnection

    /// Runs `body` with a fresh set of queues, deleted afterwards whatever happens.
    static func with(_ body: (ParkedQueueFixture) async throws -> Void) async throws {
        let connection = try await AMQPConnection.forTesting("operator-tests")
        let queues = ServiceQueues(
            service: TestEnvironment.uniqueName("operator"), subscriptions: [], retryPolicy: RetryPolicy(tiers: [.milliseconds(50)]))
        try await connection.declare(queues.topology)
        let fixture = ParkedQueueFixture(queues: queues, connection: connection)
        do {
            try await body(fixture)
        } catch {
            await fixture.remove()
            throw error
        }
        await fixture.remove()
    }

    private func remove() async {
        for queue in queues.topology.queues { try? await connection.delete(queue: queue.name) }
        await connection.close()
    }

    /// Parks an event: published to the first retry tier, dead-lettered by its TTL to the work queue,
    /// taken from there and forwarded to the parking queue with the headers of a parking.
    func park(id: String, type: String = "order.placed", reason: String = "unknown event type", attempt: Int64 = 2) async throws {
        let body = Array(#"{"specversion":"1.0","id":"\#(id)","source":"/tests","type":"\#(type)","data":{"order_id":"o-1"}}"#.utf8)
        let properties = AMQPProperties(
            contentType: "application/cloudevents+json", headers: [MessageHeaders.attempts: .int64(attempt - 1)], correlationID: "o-1",
            messageID: id, timestamp: Date(), type: type)
        try await connection.publish(AMQPMessage(body: body, properties: properties), exchange: "", routingKey: queues.retryQueue(tier: 0))
        let consumer = try await connection.consume(queue: queues.workQueue, prefetch: 1)
        let delivery = try #require(try await consumer.collect(1, within: .seconds(10)).first, "the retry tier did not send \(id) back")
        consumer.cancel()
        var parked = delivery.properties
        parked.headers.merge([
            MessageHeaders.attempts: .int64(attempt), MessageHeaders.lastError: .string(reason), MessageHeaders.parkedReason: .string(reason),
            MessageHeaders.parkedAt: .timestamp(Date()), MessageHeaders.failureKind: "permanent",
            MessageHeaders.originalExchange: "orderly.orders", MessageHeaders.originalRoutingKey: .string(type),
        ]) { _, new in new }
        try await connection.publish(AMQPMessage(body: delivery.body, properties: parked), exchange: "", routingKey: queues.parkingQueue)
        delivery.ack()
    }

    /// What the work queue receives within `timeout`, acknowledged.
    func workQueueMessages(_ count: Int, within timeout: Duration = .seconds(30)) async throws -> [AMQPDelivery] {
        let consumer = try await connection.consume(queue: queues.workQueue, prefetch: 100)
        let deliveries = try await consumer.collect(count, within: timeout)
        consumer.cancel()
        for delivery in deliveries { delivery.ack() }
        return deliveries
    }

    var parkingQueue: ParkingQueue { ParkingQueue(queues: queues) }

    /// Ready messages in the parking queue, by the broker's count.
    func parkedCount() async throws -> UInt32 { try await connection.status(ofQueue: queues.parkingQueue).messageCount }
}
