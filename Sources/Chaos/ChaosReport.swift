import Contracts
import Foundation

/// What a fault run did and found: the orders by final status, the faults injected, the broken
/// invariants (there must be none), how long the system took to settle, and what was retried and parked.
package struct ChaosReport: Sendable, Codable {
    package var run: String
    package var seed: UInt64
    package var replicas: Int
    package var startedAt: Date
    /// Orders planned, per kind.
    package var planned: [String: Int]
    package var accepted: Int
    /// Planned orders the intake never accepted (each is also a violation).
    package var notAccepted: Int
    /// Orders found at the end, per final status.
    package var statuses: [String: Int]
    /// Faults injected, per kind.
    package var faults: [String: Int]
    package var faultLog: [FaultRecord]
    package var violations: [Violation]
    /// How long the load ran, and how long the system took after it to settle.
    package var loadSeconds: Double
    package var quiescenceSeconds: Double
    /// Lower bounds: a process killed between two reads of its metrics loses what it counted since.
    package var messagesRetried: Int
    package var messagesParked: Int
    /// Poison messages injected, and those found parked (a poison message may be parked twice when an
    /// instance dies between parking it and settling it).
    package var poisonInjected: Int
    package var poisonParked: Int

    package var passed: Bool { violations.isEmpty }

    /// The report as a Markdown table and lists, as README's Reliability section shows it.
    package var markdown: String {
        var lines: [String] = []
        lines.append("| measure | value |")
        lines.append("| --- | --- |")
        let orderCount = statuses.values.reduce(0, +)
        lines.append("| orders planned / accepted / found | \(planned.values.reduce(0, +)) / \(accepted) / \(orderCount) |")
        for status in ["COMPLETED", "FAILED", "CANCELLED"] { lines.append("| \(status) | \(statuses[status, default: 0]) |") }
        for (status, count) in statuses.sorted(by: { $0.key < $1.key }) where !["COMPLETED", "FAILED", "CANCELLED"].contains(status) {
            lines.append("| \(status) (not terminal) | \(count) |")
        }
        lines.append(
            "| faults injected | \(faults.values.reduce(0, +)): "
                + faults.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + " |")
        lines.append("| invariant violations | \(violations.count) |")
        lines.append("| load / time to quiescence | \(String(format: "%.0f", loadSeconds)) s / \(String(format: "%.0f", quiescenceSeconds)) s |")
        lines.append("| messages retried (at least) | \(messagesRetried) |")
        lines.append("| poison injected / parked | \(poisonInjected) / \(poisonParked) |")
        lines.append("| instances per service | \(replicas) |")
        var text = lines.joined(separator: "\n")
        if !violations.isEmpty { text += "\n\nViolations:\n" + violations.map { "- \($0)" }.joined(separator: "\n") }
        return text
    }

    package func json() throws -> Data { try JSONEncoder.report.encode(self) }
}

/// One fault as it happened.
package struct FaultRecord: Sendable, Hashable, Codable {
    package var kind: ChaosPlan.Fault.Kind
    package var target: String?
    /// Seconds from the start of the load.
    package var at: Double
    package var seconds: Double
    /// What it did, or what went wrong with it.
    package var note: String
    /// A broken promise observed while injecting, such as a shutdown that did not finish cleanly.
    package var violation: String?
}
