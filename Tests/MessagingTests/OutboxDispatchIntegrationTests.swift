import AMQP
import Foundation
import Postgres
import TestSupport
import Testing

@testable import Messaging

/// Events handed to the dispatch as their transaction commits, against the real broker and database.
@Suite(.timeLimit(.minutes(2)))
struct OutboxDispatchIntegrationTests {
    /// A relay that polls so rarely that whatever it publishes in a test came from its dispatch.
    func relay(_ harness: MessagingHarness, _ outbox: Outbox, pollInterval: Duration = .seconds(600)) -> OutboxRelay {
        OutboxRelay(
            outbox: outbox, pool: harness.pool, connection: harness.connection, pollInterval: pollInterval,
            logger: TestEnvironment.logger(harness.service))
    }

    func enqueue(_ harness: MessagingHarness, _ outbox: Outbox, id: String, exchange: String? = nil) async throws {
        try await harness.pool.transaction { transaction in
            try await outbox.enqueue(try harness.event(id: id), exchange: exchange ?? harness.exchange, in: transaction)
        }
    }

    @Test func aCommittedEventIsPublishedWithoutAClaimAndTheNextTransactionDeletesItsRow() async throws {
        let harness = try await MessagingHarness.make()
        let outbox = Outbox(schema: harness.schema, dispatch: OutboxDispatch())
        let dispatch = outbox.dispatch!
        try await running([relay(harness, outbox)]) {
            // The relay's first round ran at its start; from here on only the dispatch publishes.
            try await Task.sleep(for: .milliseconds(300))
            try await enqueue(harness, outbox, id: "first")
            try await eventually("the broker confirmed the first event") { dispatch.publishedWaiting(longerThan: .zero) }
            try await enqueue(harness, outbox, id: "second")
            try await eventually("the broker confirmed the second event") { dispatch.publishedWaiting(longerThan: .zero) }
            // The second transaction took the first row's deletion along; the second row waits for the next one.
            let left = try await harness.pool.query("SELECT message_id FROM \(identifier: harness.schema).outbox").map {
                try $0.decode(String.self, 0)
            }
            #expect(left == ["second"])
            let delivered = try await harness.connection.consume(queue: harness.queues.workQueue).collect(2, within: .seconds(30))
            #expect(delivered.map(\.properties.messageID) == ["first", "second"])
        }
        // Stopping deletes what was confirmed and not yet taken along.
        #expect(try await harness.outbox.pendingCount(on: harness.pool) == 0)
        try await harness.tearDown()
    }

    @Test func aRowHeldForADispatchIsLeftToItUntilItsHoldRunsOut() async throws {
        let harness = try await MessagingHarness.make()
        // A dispatch nobody publishes for: its process died between the commit and the publish.
        let dead = Outbox(schema: harness.schema, dispatch: OutboxDispatch(hold: .seconds(2)))
        try await enqueue(harness, dead, id: "orphan")
        #expect(try await harness.relay().relayBatch() == 0, "held for its dispatch")
        try await Task.sleep(for: .seconds(3))
        #expect(try await harness.relay().relayBatch() == 1, "the hold ran out: the relay takes it over")
        let delivered = try await harness.connection.consume(queue: harness.queues.workQueue).collect(1, within: .seconds(30))
        #expect(delivered.map(\.properties.messageID) == ["orphan"])
        try await harness.tearDown()
    }

    @Test func whenTheBrokerRefusesAHandedEventTheRelayTakesOverAndTheDispatchComesBackOnceItIsOut() async throws {
        let harness = try await MessagingHarness.make()
        let missing = "\(harness.service).missing"
        let probe = "\(harness.service).probe"
        let dispatch = OutboxDispatch()
        let outbox = Outbox(schema: harness.schema, dispatch: dispatch)
        let relay = relay(harness, outbox, pollInterval: .milliseconds(100))
        try await running([relay]) {
            try await enqueue(harness, outbox, id: "refused", exchange: missing)
            try await eventually("the dispatch gave the refused event to the relay") { !dispatch.isTakingEvents }
            try await eventually(within: .seconds(20), "the relay reports the refused event") { relay.health.status == .degraded }
            try await harness.connection.declare(.probe(exchange: missing, queue: probe))
            let delivered = try await harness.connection.consume(queue: probe).collect(1, within: .seconds(40))
            #expect(delivered.map(\.properties.messageID) == ["refused"])
            try await eventually(within: .seconds(30), "the dispatch takes events again") { dispatch.isTakingEvents }
            try await enqueue(harness, outbox, id: "after")
            let after = try await harness.connection.consume(queue: harness.queues.workQueue).collect(1, within: .seconds(30))
            #expect(after.map(\.properties.messageID) == ["after"])
        }
        try await harness.connection.delete(queue: probe)
        try await harness.connection.delete(exchange: missing)
        try await harness.tearDown()
    }
}
