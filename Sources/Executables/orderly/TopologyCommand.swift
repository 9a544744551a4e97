import AMQP
import ArgumentParser
import Contracts

/// `orderly topology`: declare or inspect the exchanges and queues of the saga.
struct TopologyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology",
        abstract: "Declare or inspect the saga's exchanges and queues.",
        subcommands: [Declare.self, Show.self]
    )

    struct Declare: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Declare every exchange, queue, retry tier and binding (idempotent).")
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let topology = Subscriptions.topology
            try await connection.withBroker { try await $0.declare(topology) }
            print("declared \(topology.exchanges.count) exchanges, \(topology.queues.count) queues, \(topology.bindings.count) bindings")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every queue of the saga with its ready messages and consumers.")
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await connection.withBroker { broker in
                print("queue".padding(toLength: 32, withPad: " ", startingAt: 0) + "ready  consumers")
                for queue in Subscriptions.all.flatMap(\.topology.queues) {
                    let line = queue.name.padding(toLength: 32, withPad: " ", startingAt: 0)
                    if let status = try? await broker.status(ofQueue: queue.name) {
                        print(line + String(status.messageCount).padding(toLength: 7, withPad: " ", startingAt: 0) + "\(status.consumerCount)")
                    } else {
                        print(line + "(not declared)")
                    }
                }
            }
        }
    }
}
