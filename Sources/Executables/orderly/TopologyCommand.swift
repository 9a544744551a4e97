import ArgumentParser

/// `orderly topology`: declare, inspect or verify the exchanges and queues of the saga.
struct TopologyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology",
        abstract: "Declare, inspect or verify the saga's exchanges, queues and bindings.",
        subcommands: [TopologyDeclare.self, TopologyShow.self, TopologyVerify.self]
    )
}
