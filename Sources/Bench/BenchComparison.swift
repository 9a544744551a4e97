import Contracts
import Foundation

/// Two builds benched in one run, on one machine, in the same hour: the only before/after a speed claim can rest on.
package struct BenchComparison: Sendable, Codable {
    /// The reference build, say today's main built in another folder.
    package var baseline: BenchReport
    /// The build under test.
    package var candidate: BenchReport
    /// Where each build's executables came from.
    package var baselineDirectory: String
    package var candidateDirectory: String

    package init(baseline: BenchReport, candidate: BenchReport, baselineDirectory: String, candidateDirectory: String) {
        self.baseline = baseline
        self.candidate = candidate
        self.baselineDirectory = baselineDirectory
        self.candidateDirectory = candidateDirectory
    }

    /// One measure of both builds at their own highest rate kept up (or their last step).
    struct Row: Sendable {
        var measure: String
        var value: @Sendable (BenchReport, BenchStep) -> Double?
        var digits = 1
    }

    static let rows: [Row] = [
        Row(measure: "highest rate kept up, orders/s", value: { report, _ in report.best?.offeredRate }, digits: 0),
        Row(measure: "completed/s", value: { _, step in step.completedPerSecond }),
        Row(measure: "CPU ms per order", value: { _, step in step.totalCPUMillisecondsPerOrder }, digits: 2),
        Row(measure: "commits per order", value: { _, step in step.perOrder["commits"] }, digits: 2),
        Row(measure: "rows read per order", value: { _, step in step.perOrder["read"] }),
        Row(measure: "rows inserted per order", value: { _, step in step.perOrder["inserted"] }),
        Row(measure: "intake p99 ms", value: { _, step in step.intake.p99 }),
        Row(measure: "end-to-end p50 ms", value: { _, step in step.endToEnd.p50 }),
        Row(measure: "end-to-end p99 ms", value: { _, step in step.endToEnd.p99 }),
        Row(measure: "largest service peak RSS MiB", value: { _, step in step.largestServiceResidentMiB }, digits: 0),
    ]

    /// The headline measures side by side, with the candidate's ratio to the baseline, then each build's steps.
    package var markdown: String {
        func f(_ value: Double?, _ digits: Int) -> String { value.map { String(format: "%.\(digits)f", $0) } ?? "–" }
        let baseStep = baseline.best ?? baseline.steps.last
        let candidateStep = candidate.best ?? candidate.steps.last
        var lines = [
            "| at each build's highest rate kept up | baseline | candidate | candidate / baseline |",
            "| --- | --- | --- | --- |",
        ]
        for row in Self.rows {
            let before = baseStep.flatMap { row.value(baseline, $0) }
            let after = candidateStep.flatMap { row.value(candidate, $0) }
            let ratio = before.flatMap { before in after.map { before > 0 ? $0 / before : .nan } }.map { String(format: "%.2f×", $0) }
            lines.append("| \(row.measure) | \(f(before, row.digits)) | \(f(after, row.digits)) | \(ratio ?? "–") |")
        }
        lines += ["", "Baseline (\(baselineDirectory)):", "", baseline.markdown]
        lines += ["", "Candidate (\(candidateDirectory)):", "", candidate.markdown]
        return lines.joined(separator: "\n")
    }

    package func json() throws -> Data { try JSONEncoder.report.encode(self) }
}
