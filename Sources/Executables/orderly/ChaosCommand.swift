import ArgumentParser
import Chaos
import Foundation
import LocalRun
import Logging

/// `orderly chaos`: a fault run against a whole system of its own on the local RabbitMQ and PostgreSQL.
struct ChaosCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chaos",
        abstract: "Prove the invariants under faults: load, kills, broker and database restarts, poison; then check everything.",
        discussion: """
            Starts every service (in a RabbitMQ virtual host and a PostgreSQL database of its own, on free ports), places \
            a mixed load through the HTTP intake and orderly.ingress, and meanwhile kills services with SIGKILL, stops them with \
            SIGTERM, restarts RabbitMQ and PostgreSQL (through infra/dev), publishes duplicates and poison, and takes the payment \
            gateway down. Then it waits until the system is quiet and checks every invariant of the design contract. Exits 1 if \
            any is broken. Needs the brokers of ./infra/dev up (or test) and the services built next to this executable.
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "Orders to place.") var orders = 300
    @Option(help: "Orders placed per second.") var rate = 10.0
    @Option(help: "Faults drawn at random on top of one of each kind.") var extraFaults = 4
    @Option(
        help: """
            Only these faults, comma-separated, each once (and the extra ones drawn from them): \
            \(ChaosPlan.Fault.Kind.allCases.map(\.rawValue).joined(separator: ", ")). Default: every kind but broker_node_loss, \
            which needs ./infra/dev up --rabbit-nodes 3.
            """,
        transform: { text in
            try text.split(separator: ",").map { name in
                guard let kind = ChaosPlan.Fault.Kind(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError(
                        "unknown fault '\(name)': expected \(ChaosPlan.Fault.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return kind
            }
        })
    var faults: [ChaosPlan.Fault.Kind]?
    @Option(help: "The seed of the plan, to repeat a run.") var seed: UInt64?
    @Option(help: "The saga deadline the services run with, in seconds.") var sagaDeadline = 300
    @Option(help: "How long to wait for quiescence after the load, in seconds.") var quiescenceTimeout = 600
    @Option(help: "Where to write the JSON report (default: .data/chaos/<run>.json).") var report: String?
    @Flag(help: "Keep the virtual host, the database and the logs afterwards.") var keep = false
    @OptionGroup var local: LocalSystemOptions

    func run() async throws {
        var (systemConfiguration, infrastructure) = try local.system(on: connection)
        systemConfiguration.sagaDeadline = .seconds(sagaDeadline)
        var options = ChaosRun.Options(system: systemConfiguration)
        options.orders = orders
        options.rate = rate
        options.extraFaults = extraFaults
        options.faults = faults
        if let seed { options.seed = seed }
        options.quiescenceTimeout = .seconds(quiescenceTimeout)
        options.keep = keep
        var logger = Logger(label: "chaos")
        logger.logLevel = .error

        let report = try await ChaosRun(options: options, infrastructure: infrastructure, logger: logger).run { line in
            // Unbuffered, so that progress shows as it happens, also when piped to a file.
            FileHandle.standardOutput.write(Data("chaos: \(line)\n".utf8))
        }
        print()
        print(report.markdown)
        let path = self.report ?? "\(ProcessInfo.processInfo.environment["ORDERLY_DATA_DIR"] ?? ".data")/chaos/\(report.run).json"
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try report.json().write(to: url)
        print("\nreport: \(url.path) (seed \(report.seed))")
        if !report.passed { throw ExitCode(1) }
    }

}
