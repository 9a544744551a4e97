import AMQP
import Foundation
import Synchronization
import TestSupport
import Testing

/// Really stops and starts the broker; run apart from the other tests (`swift test --filter Fault`).
@Suite(.serialized, .timeLimit(.minutes(3)))
struct AMQPFaultTests {
    @Test func everyMessagePublishedAcrossABrokerRestartArrives() async throws {
        let publisher = try await AMQPConnection.forTesting("fault-publisher") { $0.publishTimeout = .seconds(60) }
        let consumerConnection = try await AMQPConnection.forTesting("fault-consumer")
        let queue = TestEnvironment.uniqueName("restart")
        try await publisher.declare(AMQPTopology(queues: [.quorum(queue)]))
        let consumer = try await consumerConnection.consume(queue: queue, prefetch: 50)

        let received = Mutex<Set<String>>([])
        let total = 600
        let consuming = Task {
            for await delivery in consumer {
                let id = String(decoding: delivery.body, as: UTF8.self)
                let count = received.withLock {
                    $0.insert(id)
                    return $0.count
                }
                delivery.ack()
                if count == total { return }
            }
        }

        // A publisher that, like the outbox relay, publishes again whatever did not get a confirm.
        let publishing = Task {
            for index in 0..<total {
                while true {
                    do {
                        try await publisher.publish(AMQPMessage("\(index)"), exchange: "", routingKey: queue)
                        break
                    } catch {
                        try await Task.sleep(for: .milliseconds(200))
                    }
                }
                try await Task.sleep(for: .milliseconds(10))
            }
        }

        try await Task.sleep(for: .seconds(1))  // Some before,
        try Infrastructure.rabbitmq.stop()
        #expect(!publisher.isConnected)  // during (they wait),
        try Infrastructure.rabbitmq.start()
        try await publishing.value  // and after.
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await consuming.value }
            group.addTask {
                try await Task.sleep(for: .seconds(60))
                consuming.cancel()
            }
            try await group.next()
            group.cancelAll()
        }
        let ids = received.withLock { $0 }
        #expect(ids == Set((0..<total).map(String.init)), "missing: \(Set((0..<total).map(String.init)).subtracting(ids).sorted())")
        try await publisher.delete(queue: queue)
        await publisher.close()
        await consumerConnection.close()
    }

    @Test func aLostConnectionIsNoticedAndRestoredWithItsTopology() async throws {
        let connection = try await AMQPConnection.forTesting("fault-topology")
        let exchange = TestEnvironment.uniqueName("restart.exchange")
        let queue = TestEnvironment.uniqueName("restart.bound")
        try await connection.declare(
            AMQPTopology(
                exchanges: [.init(name: exchange, durable: false)],
                queues: [.init(name: queue, durable: false)],
                bindings: [.init(queue: queue, exchange: exchange, routingKey: "order.*")]
            ))
        try Infrastructure.rabbitmq.restart()
        // Transient declarations died with the broker; the client declares them again on reconnect.
        try await connection.waitUntilConnected(timeout: .seconds(30))
        try await connection.publish(AMQPMessage("routed"), exchange: exchange, routingKey: "order.placed")
        #expect(try await connection.status(ofQueue: queue).messageCount == 1)
        await connection.close()
    }
}
