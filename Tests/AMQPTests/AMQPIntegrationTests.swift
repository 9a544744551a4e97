import AMQP
import Foundation
import TestSupport
import Testing

/// The client against the real broker started by `infra/dev`.
@Suite(.timeLimit(.minutes(1)))
struct AMQPIntegrationTests {
    @Test func aConfirmedMessageArrivesWithItsPropertiesAndHeaders() async throws {
        let connection = try await AMQPConnection.forTesting("roundtrip")
        let queue = TestEnvironment.uniqueName("roundtrip")
        try await connection.declare(AMQPTopology(queues: [.quorum(queue)]))
        let sent = Date(timeIntervalSince1970: 1_790_000_000)
        let properties = AMQPProperties(
            contentType: "application/json",
            headers: [
                "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "attempt": .int32(3), "big": .int64(1 << 40), "flag": true, "ratio": .double(0.25),
                "when": .timestamp(sent), "tags": .array(["a", .int32(2)]), "nested": .table(["inner": "value"]),
            ],
            correlationID: "order-1", messageID: "m-1", timestamp: sent, type: "order.placed", appID: "tests"
        )
        try await connection.publish(AMQPMessage("{\"hello\":1}", properties: properties), exchange: "", routingKey: queue)

        let consumer = try await connection.consume(queue: queue, prefetch: 10)
        let delivery = try #require(try await consumer.collect(1, within: .seconds(10)).first)
        #expect(String(decoding: delivery.body, as: UTF8.self) == "{\"hello\":1}")
        #expect(
            delivery.properties
                == AMQPProperties(
                    contentType: "application/json", headers: properties.headers, persistent: true, correlationID: "order-1",
                    messageID: "m-1", timestamp: sent, type: "order.placed", appID: "tests"
                ))
        #expect(delivery.routingKey == queue)
        delivery.ack()
        try await connection.delete(queue: queue)
        await connection.close()
    }

    @Test func aMandatoryMessageThatNoQueueTakesFails() async throws {
        let connection = try await AMQPConnection.forTesting("unroutable")
        let error = await #expect(throws: AMQPError.self) {
            try await connection.publish(AMQPMessage("lost"), exchange: "amq.topic", routingKey: "nobody.listens")
        }
        #expect(error?.code == .unroutable)
        #expect(error?.replyCode == 312)
        // The same connection goes on publishing.
        try await connection.publish(AMQPMessage("fine"), exchange: "amq.topic", routingKey: "nobody.listens", mandatory: false)
        await connection.close()
    }

    @Test func publishingToAMissingExchangeFailsAndThePublisherRecovers() async throws {
        let connection = try await AMQPConnection.forTesting("missing-exchange")
        let queue = TestEnvironment.uniqueName("after-404")
        try await connection.declare(AMQPTopology(queues: [.quorum(queue)]))
        let error = await #expect(throws: AMQPError.self) {
            try await connection.publish(AMQPMessage("x"), exchange: TestEnvironment.uniqueName("nowhere"), routingKey: "k")
        }
        #expect(error?.replyCode == 404)
        try await connection.publish(AMQPMessage("y"), exchange: "", routingKey: queue)
        #expect(try await connection.status(ofQueue: queue).messageCount == 1)
        try await connection.delete(queue: queue)
        await connection.close()
    }

    @Test func aConflictingDeclarationNamesTheProblemAndTheConnectionGoesOn() async throws {
        let connection = try await AMQPConnection.forTesting("conflict")
        let queue = TestEnvironment.uniqueName("conflict")
        try await connection.declare(AMQPTopology(queues: [.quorum(queue)]))
        let error = await #expect(throws: AMQPError.self) {
            try await connection.declare(AMQPTopology(queues: [AMQPTopology.Queue(name: queue, arguments: ["x-queue-type": "classic"])]))
        }
        #expect(error?.code == .channelClosed)
        #expect(error?.replyCode == 406)
        #expect(try await connection.status(ofQueue: queue).messageCount == 0)
        try await connection.delete(queue: queue)
        await connection.close()
    }

    @Test func aBatchIsConfirmedAndOneMultipleAckSettlesEveryDelivery() async throws {
        let connection = try await AMQPConnection.forTesting("batch")
        let queue = TestEnvironment.uniqueName("batch")
        try await connection.declare(AMQPTopology(queues: [.quorum(queue)]))
        let batch = (0..<200).map { AMQPConnection.Publication(AMQPMessage("\($0)"), exchange: "", routingKey: queue) }
        let results = await connection.publish(batch)
        #expect(results.allSatisfy { (try? $0.get()) != nil })

        let consumer = try await connection.consume(queue: queue, prefetch: 200)
        let deliveries = try await consumer.collect(200, within: .seconds(10))
        #expect(deliveries.map { String(decoding: $0.body, as: UTF8.self) } == (0..<200).map(String.init))
        deliveries.last!.ack(multiple: true)
        consumer.cancel()
        await connection.close()

        // Nothing comes back on a new connection: every delivery was settled.
        let again = try await AMQPConnection.forTesting("batch-check")
        #expect(try await again.status(ofQueue: queue) == AMQPQueueStatus(messageCount: 0, consumerCount: 0))
        try await again.delete(queue: queue)
        await again.close()
    }

    @Test func aRejectedMessageIsDeadLetteredAndARequeuedOneComesBack() async throws {
        let connection = try await AMQPConnection.forTesting("dead-letter")
        let queue = TestEnvironment.uniqueName("work")
        let parking = "\(queue).dead"
        try await connection.declare(
            AMQPTopology(queues: [
                .quorum(parking),
                .quorum(queue, arguments: ["x-dead-letter-exchange": "", "x-dead-letter-routing-key": .string(parking)]),
            ]))
        try await connection.publish(AMQPMessage("again"), exchange: "", routingKey: queue)
        try await connection.publish(AMQPMessage("never"), exchange: "", routingKey: queue)

        // Quorum queues put a requeued message at the back, so the two come in either order.
        let consumer = try await connection.consume(queue: queue, prefetch: 1)
        var outcomes: [String] = []
        for await delivery in consumer {
            switch (String(decoding: delivery.body, as: UTF8.self), delivery.redelivered) {
            case ("again", false): delivery.nack(requeue: true)
            case ("again", true): delivery.ack()
            default: delivery.reject(requeue: false)
            }
            outcomes.append("\(String(decoding: delivery.body, as: UTF8.self)):\(delivery.redelivered)")
            if outcomes.count == 3 { break }
        }
        #expect(outcomes.sorted() == ["again:false", "again:true", "never:false"])

        let parked = try await connection.consume(queue: parking).collect(1, within: .seconds(10))
        #expect(parked.map { String(decoding: $0.body, as: UTF8.self) } == ["never"])
        let death = parked.first?.properties.headers["x-death"]
        guard case .array(let entries)? = death, case .table(let entry)? = entries.first else {
            Issue.record("no x-death header: \(String(describing: death))")
            return
        }
        #expect(entry["reason"]?.stringValue == "rejected")
        parked.first?.ack()
        for name in [queue, parking] { try await connection.delete(queue: name) }
        await connection.close()
    }

    @Test func aConsumerCancelledByTheBrokerResumesWhenItsQueueReturns() async throws {
        let connection = try await AMQPConnection.forTesting("cancelled")
        let admin = try await AMQPConnection.forTesting("cancelled-admin")
        // A classic queue: RabbitMQ 3.10 tells consumers of a deleted classic queue, not yet those of a quorum queue.
        let queue = TestEnvironment.uniqueName("cancel")
        try await connection.declare(AMQPTopology(queues: [AMQPTopology.Queue(name: queue)]))
        let consumer = try await connection.consume(queue: queue)

        try await admin.delete(queue: queue)  // The broker cancels the consumer and tells us.
        try await admin.declare(AMQPTopology(queues: [AMQPTopology.Queue(name: queue)]))
        try await admin.publish(AMQPMessage("after"), exchange: "", routingKey: queue)

        let deliveries = try await consumer.collect(1, within: .seconds(20))
        #expect(deliveries.map { String(decoding: $0.body, as: UTF8.self) } == ["after"])
        deliveries.first?.ack()
        try await admin.delete(queue: queue)
        await connection.close()
        await admin.close()
    }

    @Test func deliveriesReceivedBeforeACancelCanStillBeAcknowledged() async throws {
        let connection = try await AMQPConnection.forTesting("drain")
        let queue = TestEnvironment.uniqueName("drain")
        try await connection.declare(AMQPTopology(queues: [.quorum(queue)]))
        _ = await connection.publish((0..<5).map { AMQPConnection.Publication(AMQPMessage("\($0)"), exchange: "", routingKey: queue) })
        let consumer = try await connection.consume(queue: queue, prefetch: 5)
        let deliveries = try await consumer.collect(5, within: .seconds(10))
        #expect(deliveries.count == 5)
        consumer.cancel()  // As a graceful shutdown does, before the work in flight is done,
        for delivery in deliveries { delivery.ack() }  // which then acknowledges what it committed.
        await connection.close()

        let check = try await AMQPConnection.forTesting("drain-check")
        #expect(try await check.status(ofQueue: queue).messageCount == 0)
        try await check.delete(queue: queue)
        await check.close()
    }

    @Test func closingEndsConsumersAndRefusesFurtherWork() async throws {
        let connection = try await AMQPConnection.forTesting("closing")
        let queue = TestEnvironment.uniqueName("closing")
        try await connection.declare(AMQPTopology(queues: [AMQPTopology.Queue(name: queue, durable: false, autoDelete: true)]))
        let consumer = try await connection.consume(queue: queue)
        await connection.close()
        #expect(try await consumer.collect(1, within: .seconds(5)).isEmpty)
        let error = await #expect(throws: AMQPError.self) {
            try await connection.publish(AMQPMessage("late"), exchange: "", routingKey: queue)
        }
        #expect(error?.code == .closed)
    }
}
