import AMQP
import ArgumentParser
import Contracts
import Foundation
import Messaging

/// `orderly dead`: look into a service's parking queue and send messages back to work.
struct DeadLettersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead",
        abstract: "Inspect and replay parked messages.",
        subcommands: [List.self, Replay.self]
    )

    /// The service whose parking queue to use.
    struct Target: ParsableArguments {
        @Argument(help: "The service: order, payment, inventory or notification.")
        var service: String

        @Option(help: "At most this many messages.")
        var limit = 100

        var queues: ServiceQueues {
            get throws {
                guard let queues = Subscriptions.all.first(where: { $0.service == service }) else {
                    throw ValidationError("unknown service '\(service)': expected one of \(Subscriptions.all.map(\.service).joined(separator: ", "))")
                }
                return queues
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print parked messages with why, when and after how many attempts; they stay parked.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var target: Target

        func run() async throws {
            let queue = try target.queues.parkingQueue
            try await connection.withBroker { broker in
                let parked = try await broker.status(ofQueue: queue).messageCount
                print("\(queue): \(parked) parked")
                for delivery in try await Self.take(min(Int(parked), target.limit), from: queue, on: broker) {
                    let headers = delivery.properties.headers
                    print(
                        """
                        - id: \(delivery.properties.messageID ?? "-")  type: \(delivery.properties.type ?? "-")
                          reason: \(headers[MessageHeaders.parkedReason]?.stringValue ?? "-")
                          attempts: \(headers[MessageHeaders.attempts]?.intValue.map(String.init) ?? "-")  at: \(headers[MessageHeaders.parkedAt].map { "\($0)" } ?? "-")
                        """)
                    delivery.nack(requeue: true)
                }
            }
        }

        /// Takes up to `count` deliveries from `queue`, waiting briefly for each.
        static func take(_ count: Int, from queue: String, on broker: AMQPConnection) async throws -> [AMQPDelivery] {
            guard count > 0 else { return [] }
            let consumer = try await broker.consume(queue: queue, prefetch: UInt16(min(count, 1000)))
            var taken: [AMQPDelivery] = []
            var iterator = consumer.makeAsyncIterator()
            while taken.count < count, let delivery = await iterator.next() { taken.append(delivery) }
            consumer.cancel()
            return taken
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send parked messages back to the service's work queue, with their attempts reset.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var target: Target

        func run() async throws {
            let queues = try target.queues
            let replayed = try await connection.withBroker { broker in
                let parked = try await broker.status(ofQueue: queues.parkingQueue).messageCount
                var replayed = 0
                for delivery in try await List.take(min(Int(parked), target.limit), from: queues.parkingQueue, on: broker) {
                    var properties = delivery.properties
                    for header in [MessageHeaders.attempts, MessageHeaders.parkedReason, MessageHeaders.parkedAt, MessageHeaders.failureKind] {
                        properties.headers[header] = nil
                    }
                    try await broker.publish(AMQPMessage(body: delivery.body, properties: properties), exchange: "", routingKey: queues.workQueue)
                    delivery.ack()
                    replayed += 1
                }
                return replayed
            }
            print("replayed \(replayed) message(s) to \(queues.workQueue)")
        }
    }
}
