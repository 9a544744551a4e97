import ArgumentParser
import Bench
import Foundation
import LocalRun

extension Bench {
    struct EndToEnd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "e2e",
            abstract: "Orders offered at a fixed rate through the HTTP intake of a whole system of its own; outcomes heard on orderly.orders.",
            discussion: """
                Starts every service (release build next to this executable) in a virtual host and database of its own on \
                the brokers of ./infra/dev up, puts stock on a few SKUs, and offers orders open-loop (each request leaves at \
                its planned time, whatever the answers before it): 93.5 % tok_ok, 3 % declined, 3 % for a SKU that runs \
                out, 0.5 % tok_flaky. It measures intake latency (POST to 202) and end-to-end latency (planned send to the outcome \
                event), throughput, errors, CPU per order of every process (each service, RabbitMQ, PostgreSQL, the bench) \
                and their peak RSS. With --search it looks for the highest rate whose end-to-end p99 stays under the bound; \
                with --limits it measures the commit and quorum publish rates of this machine and the fraction of them reached.
                """
        )

        @OptionGroup var connection: ConnectionOptions
        @Option(help: "Orders offered per second (where --search starts).") var rate = 100.0
        @Option(help: "Seconds measured per rate.") var duration = 30
        @Option(help: "Seconds of warm-up before each measurement.") var warmup = 5
        @Flag(help: "Search for the highest rate that keeps up.") var search = false
        @Option(help: "The end-to-end p99 bound of --search, in milliseconds.") var p99Bound = 1000
        @Flag(help: "Measure the machine's commit and publish limits too.") var limits = false
        @OptionGroup var local: LocalSystemOptions
        @Option(help: "Where to write bench-<run>.json, .md and .svg.") var output = "."
        @Option(
            help: ArgumentHelp(
                "A second build's executables (say, main built in another folder), benched the same way in the same run.",
                discussion: "Both builds run the same plan one after the other, and the report puts them side by side."))
        var baseline: String?

        func run() async throws {
            var (system, infrastructure) = try local.system(on: connection)
            system.logLevel = "warning"
            let folder = URL(fileURLWithPath: output)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            guard let baseline else {
                let report = try await bench(system, infrastructure, label: nil)
                try write(report, to: folder)
                return
            }
            let candidate = try await bench(system, infrastructure, label: "candidate")
            system.binDirectory = URL(fileURLWithPath: baseline)
            let reference = try await bench(system, infrastructure, label: "baseline")
            let comparison = BenchComparison(
                baseline: reference, candidate: candidate, baselineDirectory: baseline, candidateDirectory: local.binDirectory ?? "next to orderly")
            print()
            print(comparison.markdown)
            let base = folder.appendingPathComponent("bench-\(candidate.run)-vs-\(reference.run)")
            try comparison.json().write(to: base.appendingPathExtension("json"))
            try Data(comparison.markdown.utf8).write(to: base.appendingPathExtension("md"))
            for report in [candidate, reference] { try writeChart(report, to: folder) }
            print("\nwritten: \(base.path).json, .md, and a chart per build")
        }

        /// One bench of the system's executables, with its progress on standard output.
        private func bench(_ system: LocalSystem.Configuration, _ infrastructure: LocalInfrastructure, label: String?) async throws -> BenchReport {
            var options = BenchRun.Options(system: system)
            options.rate = rate
            options.duration = .seconds(duration)
            options.warmup = .seconds(warmup)
            options.search = search
            options.p99Bound = .milliseconds(p99Bound)
            options.limits = limits
            let prefix = label.map { "bench (\($0)): " } ?? "bench: "
            return try await BenchRun(options: options, infrastructure: infrastructure, logger: Bench.logger).run { line in
                FileHandle.standardOutput.write(Data("\(prefix)\(line)\n".utf8))
            }
        }

        private func write(_ report: BenchReport, to folder: URL) throws {
            print()
            print(report.markdown)
            let base = folder.appendingPathComponent("bench-\(report.run)")
            try report.json().write(to: base.appendingPathExtension("json"))
            try Data(report.markdown.utf8).write(to: base.appendingPathExtension("md"))
            try writeChart(report, to: folder)
            print("\nwritten: \(base.path).json, .md, .svg")
        }

        private func writeChart(_ report: BenchReport, to folder: URL) throws {
            guard let step = report.best ?? report.steps.last else { return }
            try Data(report.svg(for: step).utf8).write(to: folder.appendingPathComponent("bench-\(report.run)").appendingPathExtension("svg"))
        }
    }
}
