import Contracts
import Foundation

/// What one bench step measured: at one offered rate, the throughput, the latencies, the errors,
/// and what each process spent per order.
package struct BenchStep: Sendable, Codable {
    package var offeredRate: Double
    package var seconds: Double
    /// Orders accepted (202) per second over the measured window.
    package var acceptedPerSecond: Double
    /// Orders that reached their outcome per second over the measured window.
    package var completedPerSecond: Double
    package var intake: LatencySummary
    package var endToEnd: LatencySummary
    /// Requests by how they ended: accepted, shed (503), rejected, failed, not_sent.
    package var outcomes: [String: Int]
    /// Accepted orders with no outcome when the drain ended.
    package var unfinished: Int
    /// CPU milliseconds per completed order, per process group.
    package var cpuMillisecondsPerOrder: [String: Double]
    /// The largest resident set of any process of each group, in MiB.
    package var peakResidentMiB: [String: Double]
    /// Per completed order: PostgreSQL commits, rows inserted, updated and read, and events published.
    package var perOrder: [String: Double]
    package var timeline: [Timeline.Second]

    /// Whether the system kept up: nearly all offered orders completed, none failed, p99 within `bound`.
    package func passed(p99Bound: Duration) -> Bool {
        completedPerSecond >= offeredRate * 0.95 && outcomes["failed", default: 0] == 0 && outcomes["not_sent", default: 0] == 0
            && endToEnd.p99 <= p99Bound.seconds * 1000
    }

    package var totalCPUMillisecondsPerOrder: Double { cpuMillisecondsPerOrder.values.reduce(0, +) }

    /// The largest peak RSS of Orderly's own processes: the brokers and the bench left out.
    package var largestServiceResidentMiB: Double? {
        peakResidentMiB.filter { !["rabbitmq", "postgresql", "bench"].contains($0.key) }.values.max()
    }
}

/// A bench run: its steps, the best rate that passed, and the limits of the machine.
package struct BenchReport: Sendable, Codable {
    package var run: String
    package var date: Date
    package var machine: String
    package var replicas: Int
    package var p99BoundMilliseconds: Double
    package var steps: [BenchStep]
    package var limits: Limits?

    /// The highest step that kept up.
    package var best: BenchStep? {
        steps.filter { $0.passed(p99Bound: .milliseconds(Int64(p99BoundMilliseconds))) }.max { $0.completedPerSecond < $1.completedPerSecond }
    }

    /// The orders per second the limits allow, given what one order costs in commits and publishes.
    package func limitRate(for step: BenchStep) -> Double? {
        guard let limits, let commits = step.perOrder["commits"], let publishes = step.perOrder["published"], commits > 0, publishes > 0 else {
            return nil
        }
        return min(limits.commitsPerSecond / commits, limits.publishesPerSecond / publishes)
    }

    package func json() throws -> Data { try JSONEncoder.report.encode(self) }

    /// Every step as a table row, then the cost of the best step by process, as README shows them.
    package var markdown: String {
        func f(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }
        var lines = [
            "| offered/s | accepted/s | completed/s | intake p50 / p99 ms | end-to-end p50 / p99 / max ms | shed | failed | CPU ms/order | kept up |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        let bound = Duration.milliseconds(Int64(p99BoundMilliseconds))
        for step in steps {
            lines.append(
                "| \(f(step.offeredRate, 0)) | \(f(step.acceptedPerSecond)) | \(f(step.completedPerSecond)) | \(f(step.intake.p50)) / \(f(step.intake.p99)) "
                    + "| \(f(step.endToEnd.p50)) / \(f(step.endToEnd.p99)) / \(f(step.endToEnd.max, 0)) | \(step.outcomes["shed", default: 0]) "
                    + "| \(step.outcomes["failed", default: 0]) | \(f(step.totalCPUMillisecondsPerOrder, 2)) | \(step.passed(p99Bound: bound) ? "yes" : "no") |"
            )
        }
        if let step = best ?? steps.last {
            lines.append("")
            lines.append("Cost per order at \(f(step.offeredRate, 0))/s offered:")
            lines.append("")
            lines.append("| process | CPU ms/order | peak RSS MiB |")
            lines.append("| --- | --- | --- |")
            for (name, cpu) in step.cpuMillisecondsPerOrder.sorted(by: { $0.value > $1.value }) {
                lines.append("| \(name) | \(f(cpu, 3)) | \(f(step.peakResidentMiB[name] ?? 0, 0)) |")
            }
            lines.append("| all | \(f(step.totalCPUMillisecondsPerOrder, 3)) | |")
            lines.append("")
            lines.append(step.perOrder.sorted { $0.key < $1.key }.map { "\($0.key) \(f($0.value, 2))" }.joined(separator: ", ") + " per order")
            if let limits, let rate = limitRate(for: step) {
                lines.append("")
                lines.append(
                    "Limits on this machine: \(f(limits.commitsPerSecond, 0)) commits/s, \(f(limits.publishesPerSecond, 0)) confirmed quorum publishes/s; "
                        + "at \(f(step.perOrder["commits"] ?? 0, 2)) commits and \(f(step.perOrder["published"] ?? 0, 2)) publishes per order they allow "
                        + "\(f(rate, 0)) orders/s; Orderly completed \(f(step.completedPerSecond, 0))/s, \(f(100 * step.completedPerSecond / rate, 0)) % of it."
                )
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Throughput and end-to-end percentiles over time of `step`, as an SVG chart.
    package func svg(for step: BenchStep) -> String {
        let width = 900.0
        let height = 360.0
        let left = 60.0
        let right = 60.0
        let top = 30.0
        let bottom = 40.0
        let seconds = step.timeline
        let count = Double(max(seconds.count - 1, 1))
        let maxRate = max(1, seconds.map { Double(max($0.accepted, $0.completed)) }.max() ?? 1) * 1.1
        let maxLatency = max(1, seconds.compactMap(\.p99).max() ?? 1) * 1.1
        func x(_ second: Int) -> Double { left + Double(second) / count * (width - left - right) }
        func yRate(_ value: Double) -> Double { height - bottom - value / maxRate * (height - top - bottom) }
        func yLatency(_ value: Double) -> Double { height - bottom - value / maxLatency * (height - top - bottom) }
        func line(_ points: [(Int, Double)], _ y: (Double) -> Double, _ color: String, _ dash: String = "") -> String {
            let path = points.map { "\(String(format: "%.1f", x($0.0))),\(String(format: "%.1f", y($0.1)))" }.joined(separator: " ")
            return "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" \(dash) points=\"\(path)\"/>"
        }
        var svg = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">",
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
            "<text x=\"\(left)\" y=\"18\">Orderly at \(Int(step.offeredRate)) orders/s offered: throughput (left) and end-to-end latency (right) per second</text>",
            "<line x1=\"\(left)\" y1=\"\(height - bottom)\" x2=\"\(width - right)\" y2=\"\(height - bottom)\" stroke=\"black\"/>",
            "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(height - bottom)\" stroke=\"black\"/>",
            "<line x1=\"\(width - right)\" y1=\"\(top)\" x2=\"\(width - right)\" y2=\"\(height - bottom)\" stroke=\"black\"/>",
        ]
        for tick in 0...4 {
            let fraction = Double(tick) / 4
            let y = height - bottom - fraction * (height - top - bottom)
            svg.append("<text x=\"\(left - 8)\" y=\"\(y + 4)\" text-anchor=\"end\">\(Int(maxRate * fraction))</text>")
            svg.append("<text x=\"\(width - right + 8)\" y=\"\(y + 4)\">\(Int(maxLatency * fraction)) ms</text>")
        }
        svg.append("<text x=\"\(width / 2)\" y=\"\(height - 8)\" text-anchor=\"middle\">seconds (\(seconds.count))</text>")
        svg.append(line(seconds.map { ($0.second, Double($0.accepted)) }, yRate, "#1f77b4"))
        svg.append(line(seconds.map { ($0.second, Double($0.completed)) }, yRate, "#2ca02c"))
        svg.append(line(seconds.compactMap { s in s.p50.map { (s.second, $0) } }, yLatency, "#ff7f0e", "stroke-dasharray=\"4 3\""))
        svg.append(line(seconds.compactMap { s in s.p99.map { (s.second, $0) } }, yLatency, "#d62728", "stroke-dasharray=\"4 3\""))
        let legend = [("#1f77b4", "accepted/s"), ("#2ca02c", "completed/s"), ("#ff7f0e", "end-to-end p50"), ("#d62728", "end-to-end p99")]
        for (index, (color, label)) in legend.enumerated() {
            let lx = left + 10 + Double(index) * 170
            svg.append("<line x1=\"\(lx)\" y1=\"\(top + 10)\" x2=\"\(lx + 20)\" y2=\"\(top + 10)\" stroke=\"\(color)\" stroke-width=\"2\"/>")
            svg.append("<text x=\"\(lx + 25)\" y=\"\(top + 14)\">\(label)</text>")
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n")
    }
}
