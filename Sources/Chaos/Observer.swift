import AMQP
import Contracts
import Foundation
import LocalRun
import Logging
import Synchronization

/// Listens to what the services publish, as a subscriber of another system would: which orders were
/// announced by `notification.sent`, and a sample of the saga's events to publish again as duplicates.
///
/// Its queue is a durable quorum queue bound to every exchange the services write, so that nothing
/// published while the broker restarts is missed.
final class Observer: Sendable {
    struct Captured: Sendable {
        var message: AMQPMessage
        var exchange: String
        var routingKey: String
    }

    private struct State {
        var announced: [String: Set<String>] = [:]
        var captured: [Captured] = []
        var seen = 0
    }

    let queue: String
    private let state = Mutex(State())
    static let sampleSize = 200

    init(run: String) { queue = "chaos.observer.\(run)" }

    var topology: AMQPTopology {
        let exchanges = [Exchange.orders, Exchange.payments, Exchange.inventory, Exchange.notifications]
        return AMQPTopology(
            exchanges: exchanges.map { AMQPTopology.Exchange(name: $0) }, queues: [.quorum(queue)],
            bindings: exchanges.map { AMQPTopology.Binding(queue: queue, exchange: $0, routingKey: "#") })
    }

    /// Consumes until cancelled.
    func run(on connection: AMQPConnection) async throws {
        try await connection.declare(topology)
        let consumer = try await connection.consume(queue: queue, prefetch: 500)
        await withTaskCancellationHandler {
            for await delivery in consumer {
                record(delivery)
                delivery.ack()
            }
        } onCancel: {
            consumer.cancel()
        }
    }

    private func record(_ delivery: AMQPDelivery) {
        let type = delivery.properties.type
        state.withLock { state in
            state.seen += 1
            if type == EventType.notificationSent.rawValue, let order = delivery.properties.correlationID, let id = delivery.properties.messageID {
                state.announced[order, default: []].insert(id)
            } else if state.captured.count < Self.sampleSize, state.seen % 3 == 0 {
                state.captured.append(
                    Captured(
                        message: AMQPMessage(body: delivery.body, properties: delivery.properties), exchange: delivery.exchange,
                        routingKey: delivery.routingKey))
            }
        }
    }

    /// Distinct `notification.sent` events per order id.
    var announcements: [String: Int] { state.withLock { $0.announced.mapValues(\.count) } }

    /// Events heard so far, to publish again.
    var sample: [Captured] { state.withLock { $0.captured } }
}

/// Reads the services' Prometheus counters of retried and parked messages while they run, adding up
/// across restarts (a restarted process counts from zero). A process killed between two reads loses
/// what it counted since the last, so the totals are lower bounds.
final class MetricsScraper: Sendable {
    private struct Counted {
        var base: Double = 0
        var last: Double = 0
    }

    private let counts = Mutex<[String: Counted]>([:])

    /// Scrapes every `interval` until cancelled.
    func run(system: LocalSystem, interval: Duration = .seconds(2)) async {
        while !Task.isCancelled {
            for instance in system.instances where system.isRunning(instance) {
                guard let response = try? await system.request(.GET, to: instance, path: "/metrics", timeout: .seconds(2)) else { continue }
                let text = String(decoding: response.body, as: UTF8.self)
                for outcome in ["retried", "parked", "handled", "duplicate"] {
                    record("\(instance)|\(outcome)", Self.sum(of: "orderly_messages_total", outcome: outcome, in: text))
                }
            }
            try? await Task.sleep(for: interval)
        }
    }

    private func record(_ key: String, _ value: Double) {
        counts.withLock { counts in
            var counted = counts[key] ?? Counted()
            if value < counted.last { counted.base += counted.last }
            counted.last = value
            counts[key] = counted
        }
    }

    /// The total of an outcome over every instance and restart.
    func total(_ outcome: String) -> Int {
        counts.withLock { counts in Int(counts.filter { $0.key.hasSuffix("|\(outcome)") }.values.map { $0.base + $0.last }.reduce(0, +)) }
    }

    /// The sum of a counter's samples with `outcome="…"` in Prometheus text.
    static func sum(of metric: String, outcome: String, in text: String) -> Double {
        text.split(separator: "\n").filter { $0.hasPrefix(metric + "{") && $0.contains("outcome=\"\(outcome)\"") }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
    }
}
