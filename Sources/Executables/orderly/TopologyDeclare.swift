import ArgumentParser
import Contracts

/// `orderly topology declare`: everything the catalog declares, declared (idempotent).
struct TopologyDeclare: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "declare", abstract: "Declare every exchange, queue, retry tier and binding (idempotent).")
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let topology = Subscriptions.topology
        try await connection.withBroker { try await $0.declare(topology) }
        print("declared \(topology.exchanges.count) exchanges, \(topology.queues.count) queues, \(topology.bindings.count) bindings")
    }
}
