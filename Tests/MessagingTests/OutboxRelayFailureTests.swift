import AMQP
import Foundation
import Messaging
import Postgres
import TestSupport
import Testing

/// The relay when the broker does not take what it publishes: a missing exchange, a row it cannot read.
@Suite(.timeLimit(.minutes(2)))
struct OutboxRelayFailureTests {
    @Test func theRelayDeclaresTheExchangeItWritesBeforeItPublishes() async throws {
        let harness = try await MessagingHarness.make()
        let written = "\(harness.service).written"
        let relay = OutboxRelay(
            outbox: harness.outbox, pool: harness.pool, connection: harness.connection, exchanges: [written], pollInterval: .milliseconds(100),
            logger: TestEnvironment.logger(harness.service))
        let probe = "\(harness.service).probe"
        try await running([relay]) {
            // Nobody declared the exchange but the relay: binding to it works only once the relay did.
            try await eventually("the relay declared \(written)") {
                (try? await harness.connection.declare(.probe(exchange: written, queue: probe))) != nil
            }
            try await harness.pool.transaction { transaction in
                try await harness.outbox.enqueue(try harness.event(id: "to-a-new-exchange"), exchange: written, in: transaction)
            }
            let delivered = try await harness.connection.consume(queue: probe).collect(1, within: .seconds(10))
            #expect(delivered.map(\.properties.messageID) == ["to-a-new-exchange"])
        }
        #expect(relay.health.status == .up)
        try await harness.connection.delete(queue: probe)
        try await harness.connection.delete(exchange: written)
        try await harness.tearDown()
    }

    @Test func aRowTheBrokerRefusesBacksOffShowsInHealthAndGoesOutOnceItCan() async throws {
        let harness = try await MessagingHarness.make()
        let missing = "\(harness.service).missing"
        try await harness.pool.transaction { transaction in
            try await harness.outbox.enqueue(try harness.event(id: "stuck"), exchange: missing, in: transaction)
        }
        let relay = OutboxRelay(
            outbox: harness.outbox, pool: harness.pool, connection: harness.connection, pollInterval: .milliseconds(50),
            logger: TestEnvironment.logger(harness.service))
        let probe = "\(harness.service).probe"
        try await running([relay]) {
            try await eventually(within: .seconds(20), "the relay reports the refused event") { relay.health.status == .degraded }
            #expect(relay.health.detail?.contains("404") == true, "\(relay.health.detail ?? "-")")
            // Polling every 50 ms, a relay that did not back off would have tried a hundred times by now.
            let (attempts, lastError) = try await harness.row("stuck")
            #expect((1...6).contains(attempts), "attempts: \(attempts)")
            #expect(lastError?.contains("404") == true)
            try await harness.connection.declare(.probe(exchange: missing, queue: probe))
            let delivered = try await harness.connection.consume(queue: probe).collect(1, within: .seconds(40))
            #expect(delivered.map(\.properties.messageID) == ["stuck"])
            try await eventually(within: .seconds(20), "the relay is healthy again") { relay.health.status == .up }
        }
        #expect(try await harness.outbox.pendingCount(on: harness.pool) == 0)
        try await harness.connection.delete(queue: probe)
        try await harness.connection.delete(exchange: missing)
        try await harness.tearDown()
    }

    @Test func aRowThatCannotBeReadDoesNotShiftTheOutcomesOfTheRowsAfterIt() async throws {
        let harness = try await MessagingHarness.make()
        let missing = "\(harness.service).missing"
        try await harness.pool.transaction { transaction in
            try await harness.outbox.enqueue(try harness.event(subject: "a", id: "unreadable"), exchange: harness.exchange, in: transaction)
            try await harness.outbox.enqueue(try harness.event(subject: "b", id: "refused"), exchange: missing, in: transaction)
            try await harness.outbox.enqueue(try harness.event(subject: "c", id: "fine"), exchange: harness.exchange, in: transaction)
        }
        // A row of an older version (no property columns) whose envelope cannot be read.
        try await harness.pool.execute(
            "UPDATE \(identifier: harness.schema).outbox SET envelope = '{not an envelope', event_type = NULL WHERE message_id = 'unreadable'")
        let round = try await harness.relay().relay()
        #expect(round.settled == 2 && round.failed == 1, "\(round)")
        // The refused event is still waiting to go out; the one after it went out and is marked.
        #expect(try await harness.published("refused") == false)
        #expect(try await harness.published("fine") == true)
        // The event that went out is waited for as long as a busy machine may take, then anything after it for a while:
        // that window can miss a stray event on a busy machine, but never fails a run that is right.
        let consumer = try await harness.connection.consume(queue: harness.queues.workQueue)
        let delivered = try await consumer.collect(1, within: .seconds(30))
        let after = try await consumer.collect(1, within: .seconds(2))
        #expect((delivered + after).map(\.properties.messageID) == ["fine"])
        try await harness.tearDown()
    }
}

extension MessagingHarness {
    /// The delivery attempts and last error recorded on an outbox row.
    func row(_ messageID: String) async throws -> (attempts: Int, lastError: String?) {
        let row = try await pool.query("SELECT attempts, last_error FROM \(identifier: schema).outbox WHERE message_id = \(messageID)")[0]
        return (try row.decode(Int.self, 0), try row.decode(String?.self, 1))
    }

    /// Whether an outbox row no longer waits to be published (published rows are deleted).
    func published(_ messageID: String) async throws -> Bool {
        try await pool.query(
            "SELECT count(*) FROM \(identifier: schema).outbox WHERE message_id = \(messageID) AND published_at IS NULL"
        )[0].decode(Int.self, 0) == 0
    }
}
