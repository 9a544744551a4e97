import AMQP
import Foundation
import Messaging
import MessagingConventions
import TestSupport
import Testing

/// A parking queue looked into and replayed on the real broker, with messages the consumer parked itself.
@Suite(.timeLimit(.minutes(1)))
struct ParkingQueueTests {
    /// Publishes `count` events that the consumer parks at once, and waits until all are parked.
    func parkSome(_ count: Int, _ harness: MessagingHarness) async throws -> [CloudEvent] {
        let events = try (0..<count).map { _ in try harness.event(subject: "order-\(UUID().uuidString.prefix(6))") }
        try await running([harness.consumer(["test.happened": { _ in throw PermanentFailure("not a valid test event") }])]) {
            for event in events { try await harness.connection.publish(event.amqpMessage(), exchange: harness.exchange, routingKey: event.type) }
            try await eventually { try await harness.connection.status(ofQueue: harness.queues.parkingQueue).messageCount == count }
        }
        return events
    }

    @Test func aLookShowsWhyEachMessageWasParkedAndLeavesThemAll() async throws {
        let harness = try await MessagingHarness.make()
        let events = try await parkSome(3, harness)
        let parking = ParkingQueue(queues: harness.queues)
        let listing = try await parking.peek(limit: 2, on: harness.connection)
        #expect(listing.queue == harness.queues.parkingQueue)
        #expect(listing.count == 3)
        #expect(listing.messages.map(\.messageID) == events.prefix(2).map(\.id))
        let first = try #require(listing.messages.first)
        #expect(first.type == "test.happened")
        #expect(first.subject == events[0].subject)
        #expect(first.reason?.contains("not a valid test event") == true)
        #expect(first.failureKind == "permanent")
        #expect(first.attempts == 1)
        #expect(first.originalExchange == harness.exchange && first.originalRoutingKey == "test.happened")
        #expect(first.parkedAt.map { abs($0.timeIntervalSinceNow) < 60 } == true)
        #expect(first.replays == 0 && first.bodyBytes > 0)
        // Looked at, not taken: again and again.
        for _ in 0..<3 { #expect(try await parking.peek(limit: 10, on: harness.connection).messages.count == 3) }
        #expect(try await harness.connection.status(ofQueue: harness.queues.parkingQueue).messageCount == 3)
        try await harness.tearDown()
    }

    @Test func aReplaySendsTheChosenMessagesBackToWorkWithTheirHistory() async throws {
        let harness = try await MessagingHarness.make()
        let events = try await parkSome(3, harness)
        let parking = ParkingQueue(queues: harness.queues)
        let chosen = try await parking.replay(ids: [events[1].id, "no-such-message"], limit: 100, on: harness.connection)
        #expect(chosen == [events[1].id])
        #expect(try await harness.connection.status(ofQueue: harness.queues.parkingQueue).messageCount == 2)
        let back = try await harness.connection.consume(queue: harness.queues.workQueue, prefetch: 10).collect(1, within: .seconds(30))
        let delivery = try #require(back.first)
        #expect(delivery.properties.messageID == events[1].id)
        #expect(delivery.body == events[1].amqpMessage().body)
        let headers = delivery.properties.headers
        #expect(headers[MessageHeaders.attempts] == nil, "its attempts start again")
        #expect(headers[MessageHeaders.previousAttempts]?.intValue == 1)
        #expect(headers[MessageHeaders.replays]?.intValue == 1)
        #expect(headers[MessageHeaders.parkedReason]?.stringValue?.contains("not a valid test event") == true, "why it was parked stays")
        #expect(headers[MessageHeaders.originalExchange]?.stringValue == harness.exchange)
        delivery.nack(requeue: true)

        // Parked again, it says it was replayed once; the rest goes back with it.
        try await running([harness.consumer(["test.happened": { _ in throw PermanentFailure("still not valid") }])]) {
            try await eventually { try await harness.connection.status(ofQueue: harness.queues.parkingQueue).messageCount == 3 }
        }
        let again = try await parking.peek(limit: 10, on: harness.connection).messages
        #expect(again.first { $0.messageID == events[1].id }?.replays == 1)
        #expect(again.first { $0.messageID == events[1].id }?.reason?.contains("still not valid") == true)
        #expect(try await parking.replay(ids: nil, limit: 100, on: harness.connection).count == 3)
        #expect(try await harness.connection.status(ofQueue: harness.queues.parkingQueue).messageCount == 0)
        #expect(
            try await parking.peek(limit: 10, on: harness.connection)
                == ParkingQueue.Listing(queue: harness.queues.parkingQueue, count: 0, messages: []))
        try await harness.tearDown()
    }

    @Test func aReplayedMessageCountsItsReplaysWhateverTheHeaderHeld() {
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        var properties = AMQPProperties(headers: [MessageHeaders.attempts: 6, MessageHeaders.replays: .int16(2), MessageHeaders.lastError: "boom"])
        let replayed = ParkingQueue.replayed(properties, at: now)
        #expect(replayed.headers[MessageHeaders.attempts] == nil)
        #expect(replayed.headers[MessageHeaders.previousAttempts]?.intValue == 6)
        #expect(replayed.headers[MessageHeaders.replays]?.intValue == 3)
        #expect(replayed.headers[MessageHeaders.replayedAt] == .timestamp(now))
        #expect(replayed.headers[MessageHeaders.lastError] == "boom")
        #expect(replayed.persistent == true)
        properties.headers[MessageHeaders.replays] = "many"
        #expect(ParkingQueue.replayed(properties, at: now).headers[MessageHeaders.replays]?.intValue == 1, "a hostile count starts again")
        properties.headers[MessageHeaders.replays] = .int64(.max)
        #expect(ParkingQueue.replayed(properties, at: now).headers[MessageHeaders.replays]?.intValue == Int64(Int32.max), "and never overflows")
    }
}
