import AMQP
import Foundation
import Messaging
import MessagingConventions
import Postgres
import Synchronization
import TestSupport
import Testing

/// The messaging kit against the real broker and database.
@Suite(.timeLimit(.minutes(2)))
struct MessagingIntegrationTests {
    @Test func anEventWrittenInARolledBackTransactionIsNeverPublished() async throws {
        let harness = try await MessagingHarness.make()
        struct Abort: Error {}
        await #expect(throws: Abort.self) {
            try await harness.pool.transaction { transaction in
                try await harness.outbox.enqueue(try harness.event(), exchange: harness.exchange, in: transaction)
                throw Abort()
            }
        }
        try await harness.pool.transaction { transaction in
            try await harness.outbox.enqueue(try harness.event(id: "committed"), exchange: harness.exchange, in: transaction)
        }
        #expect(try await harness.relay().relayBatch() == 1)
        // The committed event is waited for as long as a busy machine may take, then anything after it for a while:
        // that window can miss a stray event on a busy machine, but never fails a run that is right.
        let consumer = try await harness.connection.consume(queue: harness.queues.workQueue)
        let delivered = try await consumer.collect(1, within: .seconds(30))
        let after = try await consumer.collect(1, within: .seconds(2))
        #expect((delivered + after).map(\.properties.messageID) == ["committed"])
        try await harness.tearDown()
    }

    @Test func aRelayThatDiesBeforeMarkingPublishesAgainAndTheInboxAbsorbsTheDuplicate() async throws {
        let harness = try await MessagingHarness.make()
        try await harness.pool.transaction { transaction in
            try await harness.outbox.enqueue(try harness.event(id: "once"), exchange: harness.exchange, in: transaction)
        }
        struct Crash: Error {}
        await #expect(throws: Crash.self) { try await harness.relay().relayBatch(afterPublish: { throw Crash() }) }
        #expect(try await harness.outbox.pendingCount(on: harness.pool) == 1)  // Published, but not marked.
        #expect(try await harness.relay().relayBatch() == 1)  // So it goes out again.
        #expect(try await harness.outbox.pendingCount(on: harness.pool) == 0)

        let inbox = Inbox(schema: harness.schema, consumer: harness.queues.workQueue)
        try await running([harness.consumer(["test.happened": harness.recordEffect])]) {
            try await eventually { try await harness.connection.status(ofQueue: harness.queues.workQueue).messageCount == 0 }
            try await Task.sleep(for: .milliseconds(300))
        }
        #expect(try await harness.effects().map(\.id) == ["once"])
        #expect(try await inbox.contains("once", on: harness.pool))
        try await harness.tearDown()
    }

    @Test func theRelayKeepsTheOrderOfEachAggregateWithSeveralRelaysRunning() async throws {
        let harness = try await MessagingHarness.make()
        let aggregates = ["o-1", "o-2", "o-3"]
        for round in 0..<40 {
            try await harness.pool.transaction { transaction in
                let events = try aggregates.map { OutgoingEvent(try harness.event(subject: $0, id: "\($0):\(round)"), exchange: harness.exchange) }
                try await harness.outbox.enqueue(events, in: transaction)
            }
        }
        let seen = Mutex<[String: [Int]]>([:])
        let record: MessagingHarness.Handler = { context in
            let parts = context.event.id.split(separator: ":")
            seen.withLock { $0[String(parts[0]), default: []].append(Int(parts[1])!) }
        }
        // One consumer at a time keeps the broker's order visible; three relays compete for the rows.
        let consumer = harness.consumer(["test.happened": record], prefetch: 1)
        let relays = (0..<3).map { _ in
            OutboxRelay(
                outbox: harness.outbox, pool: harness.pool, connection: harness.connection, batchSize: 7, logger: TestEnvironment.logger("relay"))
        }
        try await running(relays + [consumer]) {
            try await eventually { seen.withLock { $0.values.map(\.count).reduce(0, +) } == 120 }
        }
        for aggregate in aggregates {
            #expect(seen.withLock { $0[aggregate] } == Array(0..<40), "out of order for \(aggregate)")
        }
        try await harness.tearDown()
    }

    @Test func aTransientFailureIsRetriedThroughTheTiersWithGrowingDelayThenSucceeds() async throws {
        let harness = try await MessagingHarness.make()
        let attempts = Mutex<[ContinuousClock.Instant]>([])
        let schema = harness.schema
        let flaky: MessagingHarness.Handler = { context in
            attempts.withLock { $0.append(.now) }
            guard context.attempt >= 3 else { throw TransientFailure("gateway answered 503") }
            try await context.transaction.execute(
                "INSERT INTO \(identifier: schema).effects (message_id, attempt) VALUES (\(context.event.id), \(context.attempt))"
            )
        }
        try await running([harness.consumer(["test.happened": flaky])]) {
            try await harness.connection.publish(
                try harness.event(id: "flaky").amqpMessage(), exchange: harness.exchange, routingKey: "test.happened")
            try await eventually { try await !harness.effects().isEmpty }
        }
        let times = attempts.withLock { $0 }
        #expect(times.count == 3)
        let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
        // Each wait lasts at least its tier's TTL (300 ms, then 600 ms); a busy machine only lengthens them,
        // so comparing the two measured waits with each other would test the machine, not the tiers.
        #expect(gaps[0] >= .milliseconds(300) && gaps[1] >= .milliseconds(600), "gaps: \(gaps)")
        #expect(try await harness.effects().map(\.attempt) == [3])
        #expect(try await harness.connection.status(ofQueue: harness.queues.parkingQueue).messageCount == 0)
        try await harness.tearDown()
    }

    @Test func badMessagesAreParkedWithTheirReasonAndTheConsumerGoesOn() async throws {
        let harness = try await MessagingHarness.make(tiers: [.milliseconds(100), .milliseconds(200)])
        let handlers: [String: MessagingHarness.Handler] = [
            "test.happened": harness.recordEffect,
            "test.declined": { _ in throw PermanentFailure("card_declined") },
            "test.flaky": { _ in throw TransientFailure("still down") },
        ]
        let publish = { (message: AMQPMessage, key: String) in
            try await harness.connection.publish(message, exchange: harness.exchange, routingKey: key)
        }
        try await running([harness.consumer(handlers)]) {
            try await publish(AMQPMessage("{not json", properties: AMQPProperties(messageID: "malformed")), "test.happened")
            try await publish(try harness.event("test.unknown", id: "unknown").amqpMessage(), "test.unknown")
            try await publish(try harness.event("test.declined", id: "declined").amqpMessage(), "test.declined")
            try await publish(try harness.event("test.flaky", id: "exhausted").amqpMessage(), "test.flaky")
            try await publish(try harness.event(id: "good").amqpMessage(), "test.happened")
            try await eventually { try await harness.connection.status(ofQueue: harness.queues.parkingQueue).messageCount == 4 }
        }
        #expect(try await harness.effects().map(\.id) == ["good"])

        let parked = try await harness.connection.consume(queue: harness.queues.parkingQueue).collect(4, within: .seconds(30))
        let reasons = Dictionary(
            uniqueKeysWithValues: parked.map {
                ($0.properties.messageID ?? "?", $0.properties.headers[MessageHeaders.parkedReason]?.stringValue ?? "")
            })
        #expect(reasons["malformed"] == "the body is not JSON")
        #expect(reasons["unknown"] == "unknown event type 'test.unknown' for \(harness.queues.workQueue)")
        #expect(reasons["declined"] == "card_declined")
        #expect(reasons["exhausted"] == "gave up after 3 attempts: still down")
        for delivery in parked {
            #expect(delivery.properties.headers[MessageHeaders.parkedAt] != nil)
            #expect(delivery.properties.headers[MessageHeaders.attempts]?.intValue != nil)
            #expect(delivery.properties.headers[MessageHeaders.originalExchange]?.stringValue == harness.exchange)
            delivery.ack()
        }
        let exhausted = parked.first { $0.properties.messageID == "exhausted" }
        #expect(exhausted?.properties.headers[MessageHeaders.attempts]?.intValue == 3)
        #expect(exhausted?.properties.headers[MessageHeaders.failureKind]?.stringValue == "transient")
        try await harness.tearDown()
    }

    @Test func aDuplicatePublishedTwiceHasOneEffect() async throws {
        let harness = try await MessagingHarness.make()
        let event = try harness.event(id: "twice")
        try await running([harness.consumer(["test.happened": harness.recordEffect])]) {
            for _ in 0..<2 { try await harness.connection.publish(event.amqpMessage(), exchange: harness.exchange, routingKey: event.type) }
            try await eventually { try await harness.connection.status(ofQueue: harness.queues.workQueue).messageCount == 0 }
            try await Task.sleep(for: .milliseconds(300))
        }
        #expect(try await harness.effects().map(\.id) == ["twice"])
        try await harness.tearDown()
    }
}
