import AMQP
import Contracts

/// Hears how each order ended, as a subscriber of `orderly.orders` would, and records its
/// end-to-end latency: from the moment its request was meant to leave to its outcome event.
final class OutcomeListener: Sendable {
    let queue: String
    let load: OpenLoopLoad
    let endToEnd = LatencyRecorder()

    init(run: String, load: OpenLoopLoad) {
        queue = "bench.outcomes.\(run)"
        self.load = load
    }

    var topology: AMQPTopology {
        let outcomes = [EventType.orderCompleted, .orderFailed, .orderCancelled].map(\.rawValue)
        return AMQPTopology(
            exchanges: [AMQPTopology.Exchange(name: Exchange.orders)],
            queues: [AMQPTopology.Queue(name: queue, autoDelete: true)],
            bindings: outcomes.map { AMQPTopology.Binding(queue: queue, exchange: Exchange.orders, routingKey: $0) })
    }

    /// Consumes until cancelled.
    func run(on connection: AMQPConnection) async throws {
        try await connection.declare(topology)
        let consumer = try await connection.consume(queue: queue, prefetch: 1000)
        await withTaskCancellationHandler {
            var unacknowledged = 0
            for await delivery in consumer {
                let now = ContinuousClock.now
                if let order = delivery.properties.correlationID, let intended = load.takeIntended(order) {
                    endToEnd.record(now - intended)
                    load.timeline.ended(at: now, latency: now - intended)
                }
                unacknowledged += 1
                if unacknowledged >= 100 {
                    delivery.ack(multiple: true)
                    unacknowledged = 0
                }
            }
        } onCancel: {
            consumer.cancel()
        }
    }
}
