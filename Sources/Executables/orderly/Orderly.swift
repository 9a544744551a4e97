import ArgumentParser

/// The operator's command line: topology, stock, ingress events, parked messages and benchmarks.
@main
struct Orderly: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orderly",
        abstract: "Operate an Orderly installation.",
        subcommands: [TopologyCommand.self, StockCommand.self, PublishCommand.self, DeadLettersCommand.self, ChaosCommand.self, Bench.self]
    )
}

/// Where the broker and the database are, shared by every subcommand.
struct ConnectionOptions: ParsableArguments {
    @Option(help: "The broker, as an amqp:// URL.")
    var amqpURL = Environment.value("ORDERLY_AMQP_URL") ?? "amqp://guest:guest@127.0.0.1:5672/"

    @Option(help: "The database, as a postgresql:// URL.")
    var databaseURL = Environment.value("ORDERLY_DATABASE_URL") ?? "postgresql://orderly:orderly@127.0.0.1:5432/orderly"
}

enum Environment {
    static func value(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }
}

#if canImport(Glibc)
    import Glibc
#endif
