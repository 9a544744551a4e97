import Synchronization
import Timing

/// What happened in each second of a bench run: orders accepted and ended, and the end-to-end
/// latencies of those that ended, for the chart of throughput and percentiles over time.
package final class Timeline: Sendable {
    package struct Second: Sendable, Hashable, Codable {
        package var second: Int
        package var accepted: Int
        package var shed: Int
        package var completed: Int
        package var p50: Double?
        package var p99: Double?
    }

    private struct Bucket {
        var accepted = 0
        var shed = 0
        var latencies: [Double] = []
    }

    private let start: ContinuousClock.Instant
    private let buckets = Mutex<[Int: Bucket]>([:])

    package init(start: ContinuousClock.Instant) { self.start = start }

    private func second(_ instant: ContinuousClock.Instant) -> Int { Int((instant - start).components.seconds) }

    func accepted(at instant: ContinuousClock.Instant) { buckets.withLock { $0[second(instant), default: Bucket()].accepted += 1 } }
    func shed(at instant: ContinuousClock.Instant) { buckets.withLock { $0[second(instant), default: Bucket()].shed += 1 } }

    func ended(at instant: ContinuousClock.Instant, latency: Duration) {
        let milliseconds = latency.seconds * 1000
        buckets.withLock { $0[second(instant), default: Bucket()].latencies.append(milliseconds) }
    }

    package var seconds: [Second] {
        buckets.withLock { buckets in
            guard let last = buckets.keys.max() else { return [] }
            return (0...last).map { second in
                let bucket = buckets[second] ?? Bucket()
                let sorted = bucket.latencies.sorted()
                func percentile(_ p: Double) -> Double? { sorted.isEmpty ? nil : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
                return Second(
                    second: second, accepted: bucket.accepted, shed: bucket.shed, completed: sorted.count, p50: percentile(0.5),
                    p99: percentile(0.99))
            }
        }
    }
}
