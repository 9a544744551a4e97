import AMQP
import ArgumentParser
import Foundation
import Logging
import Messaging
import Postgres
import Timing

/// Throughput measurements against the local broker and database. Not tests: they print figures.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure Orderly end to end, and the publish and outbox relay throughput of its parts.",
        subcommands: [EndToEnd.self, Publish.self, Relay.self]
    )

    /// Warnings only, so that the figures stand out.
    static var logger: Logger {
        var logger = Logger(label: "orderly-bench")
        logger.logLevel = .warning
        return logger
    }

    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Persistent, confirmed publishes of fixed-size messages to one queue."
        )

        @OptionGroup var connection: ConnectionOptions
        @Option(help: "How many messages.") var messages = 50_000
        @Option(help: "The body size in bytes.") var size = 1024
        @Option(help: "The most unconfirmed messages at a time.") var window = 512
        @Option(help: "Messages handed to the client per call.") var batch = 256
        @Option(help: "The queue type: classic or quorum.") var queueType = "classic"

        func run() async throws {
            var configuration = try AMQPConfiguration(url: connection.amqpURL)
            configuration.publishWindow = window
            configuration.connectionName = "orderly-bench"
            let client = try await AMQPConnection.connect(configuration: configuration, logger: Bench.logger)
            let queue = "orderly.bench.swift"
            _ = try? await client.delete(queue: queue)
            try await client.declare(AMQPTopology(queues: [.init(name: queue, arguments: ["x-queue-type": .string(queueType)])]))
            let message = AMQPMessage(
                body: Array(repeating: UInt8(ascii: "x"), count: size), properties: AMQPProperties(contentType: "application/octet-stream"))
            let publication = AMQPConnection.Publication(message, exchange: "", routingKey: queue)

            let start = ContinuousClock.now
            // A few batches in flight keep the window full while confirms come back.
            let failures = try await withThrowingTaskGroup(of: Int.self) { group in
                var sent = 0
                var failures = 0
                func next() {
                    let count = min(batch, messages - sent)
                    guard count > 0 else { return }
                    sent += count
                    group.addTask { await client.publish(Array(repeating: publication, count: count)).filter { (try? $0.get()) == nil }.count }
                }
                for _ in 0..<max(1, window / batch + 1) { next() }
                while let failed = try await group.next() {
                    failures += failed
                    next()
                }
                return failures
            }
            let elapsed = (ContinuousClock.now - start).seconds
            print(
                String(
                    format: "Swift client: %d persistent %d-byte messages confirmed in %.2f s: %.0f msg/s (window %d, %@ queue, %d failed)",
                    messages, size, elapsed, Double(messages) / elapsed, window, queueType, failures))
            try await client.delete(queue: queue)
            await client.close()
        }
    }

    struct Relay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Events per second from the outbox to the broker, confirmed and marked published."
        )

        @OptionGroup var connection: ConnectionOptions
        @Option(help: "How many events.") var events = 20_000
        @Option(help: "Rows claimed per relay round.") var batchSize = 500
        @Option(help: "Relays running at once, as with several service instances.") var relays = 1

        func run() async throws {
            let logger = Bench.logger
            let pool = PostgresPool(configuration: try PostgresConfiguration(url: connection.databaseURL), size: relays + 2, logger: logger)
            let client = try await AMQPConnection.connect(configuration: try AMQPConfiguration(url: connection.amqpURL), logger: logger)
            let schema = "orderly_bench_relay"
            try await pool.execute("DROP SCHEMA IF EXISTS \(identifier: schema) CASCADE")
            try await PostgresMigrator(schema: schema, migrations: MessagingMigrations.all(schema: schema)).migrate(on: pool)
            let exchange = "orderly.bench.relay"
            let queue = "orderly.bench.relay"
            _ = try? await client.delete(queue: queue)
            try await client.declare(
                AMQPTopology(
                    exchanges: [.init(name: exchange)], queues: [.init(name: queue)],
                    bindings: [.init(queue: queue, exchange: exchange, routingKey: "#")]
                ))

            let outbox = Outbox(schema: schema)
            for chunk in stride(from: 0, to: events, by: 1000) {
                try await pool.transaction { transaction in
                    let batch = try (chunk..<min(chunk + 1000, events)).map { index in
                        OutgoingEvent(
                            try CloudEvent(source: "/bench", type: "order.placed", subject: "order-\(index % 997)", payload: ["index": index]),
                            exchange: exchange
                        )
                    }
                    try await outbox.enqueue(batch, in: transaction)
                }
            }

            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<relays {
                    group.addTask {
                        let relay = OutboxRelay(outbox: outbox, pool: pool, connection: client, batchSize: batchSize, logger: logger)
                        while try await relay.relayBatch() > 0 {}
                    }
                }
                try await group.waitForAll()
            }
            let pending = try await outbox.pendingCount(on: pool)
            let elapsed = (ContinuousClock.now - start).seconds
            print(
                String(
                    format: "Outbox relay: %d events published and marked in %.2f s: %.0f events/s (batch %d, %d relay(s), %d left)",
                    events - pending, elapsed, Double(events - pending) / elapsed, batchSize, relays, pending))
            try await client.delete(queue: queue)
            try await client.delete(exchange: exchange)
            try await pool.execute("DROP SCHEMA \(identifier: schema) CASCADE")
            await client.close()
            await pool.close()
        }
    }
}
