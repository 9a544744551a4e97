import AMQP
import ArgumentParser
import Contracts
import LocalRun
import OperatorKit

/// `orderly topology verify`: is every exchange, queue and binding of the catalog on the broker, as declared?
struct TopologyVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check that every exchange, queue (with its arguments), retry tier and binding of the catalog is on the broker as declared.",
        discussion: """
            Exchanges and queues are checked over AMQP without changing anything: a passive declare for existence, then the \
            broker's own comparison of the declared arguments. AMQP cannot list bindings, so they come from 'rabbitmqctl \
            list_bindings' on the broker's machine (--rabbitmqctl; --skip-bindings to leave them out). Exit status 1 when \
            anything is missing or different, or a work queue is bound to more than the catalog says; 69 when the bindings \
            could not be listed.
            """)
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "How to run rabbitmqctl against the broker, as words separated by spaces (default: './infra/dev rabbitmqctl' when found).")
    var rabbitmqctl: String?

    @Flag(help: "Check exchanges and queues only.")
    var skipBindings = false

    struct Report: Encodable {
        var matches: Bool
        var items: [Item]

        struct Item: Encodable {
            var kind: TopologyReport.Item.Kind
            var name: String
            var status: TopologyReport.Item.Status
            var detail: String?
        }
    }

    func run() async throws {
        let virtualHost = try AMQPConfiguration(url: connection.amqpURL).virtualHost
        let command = rabbitmqctlCommand
        let listBindings: TopologyVerifier.BindingSource = { @Sendable in
            try BrokerBindings.parse(try Subprocess.run(command + BrokerBindings.rabbitmqctlArguments(virtualHost: virtualHost), input: nil))
        }
        let source = skipBindings ? nil : listBindings
        let report = try await connection.withBroker { broker in
            try await TopologyVerifier(Subscriptions.topology, on: broker).verify(bindings: source)
        }
        let items = report.items.map { Report.Item(kind: $0.kind, name: $0.name, status: $0.status, detail: $0.detail) }
        try output.print(Report(matches: report.matches, items: items)) {
            for item in report.items {
                let line =
                    item.kind.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)
                    + item.name.padding(toLength: 56, withPad: " ", startingAt: 0)
                print(line + item.status.rawValue + (item.detail.map { ": \($0)" } ?? ""))
            }
            let counts = Dictionary(grouping: report.items, by: \.status).mapValues(\.count)
            let summary = TopologyReport.Item.Status.allCases.compactMap { status in counts[status].map { "\($0) \(status.rawValue)" } }
            print("\(report.items.count) checked: " + summary.joined(separator: ", "))
        }
        if !report.matches {
            let differences = report.problems.filter { $0.status != .unchecked }
            let named = differences.prefix(3).map { "\($0.kind.rawValue) \($0.name) \($0.status.rawValue)" }
            let more = differences.count > named.count ? "; and \(differences.count - named.count) more, each on standard output" : ""
            throw Failure(.failure, "the broker differs from the catalog in \(differences.count) place(s): \(named.joined(separator: "; "))\(more)")
        }
        if !skipBindings, report.items.contains(where: { $0.status == .unchecked }) {
            let why = report.items.first { $0.status == .unchecked }?.detail ?? "bindings not checked"
            throw Failure(.unavailable, "\(why); --rabbitmqctl says how to reach the broker's rabbitmqctl, --skip-bindings leaves bindings out")
        }
    }

    /// `--rabbitmqctl`, else this checkout's `infra/dev rabbitmqctl`, else `rabbitmqctl` on the PATH.
    var rabbitmqctlCommand: [String] {
        if let rabbitmqctl { return rabbitmqctl.split(separator: " ").map(String.init) }
        if let infrastructure = LocalInfrastructure.find() { return [infrastructure.script, "rabbitmqctl"] }
        return ["rabbitmqctl"]
    }
}
