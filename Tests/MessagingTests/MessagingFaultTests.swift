import AMQP
import Foundation
import Messaging
import Postgres
import TestSupport
import Testing

/// Really restarts the broker and the database under a running relay and consumer; run apart
/// from the other tests (`swift test --filter Fault`).
@Suite(.serialized, .timeLimit(.minutes(3)))
struct MessagingFaultTests {
    @Test func everyEventWrittenAcrossABrokerRestartIsHandledExactlyOnce() async throws {
        let harness = try await MessagingHarness.make()
        let total = 300
        try await running([harness.relay(), harness.consumer(["test.happened": harness.recordEffect])]) {
            for index in 0..<total {
                try await harness.pool.transaction { transaction in
                    try await harness.outbox.enqueue(
                        try harness.event(subject: "o-\(index % 7)", id: "e-\(index)"), exchange: harness.exchange, in: transaction)
                }
                if index == total / 3 { try Infrastructure.rabbitmq.stop() }
                if index == 2 * total / 3 { try Infrastructure.rabbitmq.start() }
                try await Task.sleep(for: .milliseconds(5))
            }
            try await eventually(within: .seconds(90)) { try await harness.effects().count >= total }
            try await Task.sleep(for: .seconds(1))  // Time for a duplicate to show, if one got through.
        }
        let effects = try await harness.effects().map(\.id)
        #expect(effects.count == total)
        #expect(Set(effects) == Set((0..<total).map { "e-\($0)" }))
        #expect(try await harness.outbox.pendingCount(on: harness.pool) == 0)
        #expect(try await harness.connection.status(ofQueue: harness.queues.parkingQueue).messageCount == 0)
        try await harness.tearDown()
    }

    @Test func messagesArrivingWhileTheDatabaseIsDownAreRetriedAndHandledOnceItIsBack() async throws {
        // A pool that gives up after a second, so handlers fail during the outage instead of waiting it out.
        let harness = try await MessagingHarness.make(
            tiers: [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16)], acquireTimeout: .seconds(1)
        )
        let total = 20
        try await running([harness.consumer(["test.happened": harness.recordEffect])]) {
            try Infrastructure.postgres.stop()
            for index in 0..<total {
                try await harness.connection.publish(
                    try harness.event(id: "d-\(index)").amqpMessage(), exchange: harness.exchange, routingKey: "test.happened")
            }
            try await Task.sleep(for: .seconds(4))
            try Infrastructure.postgres.start()
            // The pool reconnects with backoff of its own; until then a query may still fail.
            try await eventually(within: .seconds(60)) { (try? await harness.effects().count) ?? 0 >= total }
        }
        let effects = try await harness.effects()
        #expect(Set(effects.map(\.id)) == Set((0..<total).map { "d-\($0)" }))
        #expect(effects.count == total)
        #expect(effects.contains { $0.attempt > 1 })  // They really went through the tiers.
        #expect(try await harness.connection.status(ofQueue: harness.queues.parkingQueue).messageCount == 0)
        try await harness.tearDown()
    }
}
