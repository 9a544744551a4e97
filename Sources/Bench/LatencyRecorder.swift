import Histogram
import Synchronization
import Timing

/// Latencies in microseconds, recorded from any task into an HdrHistogram (three significant digits).
package final class LatencyRecorder: Sendable {
    private let histogram = Mutex(Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three))

    package init() {}

    package func record(_ duration: Duration) {
        let micros = UInt64(clamping: max(1, duration.microseconds))
        histogram.withLock { _ = $0.record(micros) }
    }

    /// The recorded values' summary, in milliseconds.
    package var summary: LatencySummary {
        histogram.withLock { histogram in
            func ms(_ percentile: Double) -> Double { Double(histogram.valueAtPercentile(percentile)) / 1000 }
            return LatencySummary(
                count: Int(histogram.totalCount), p50: ms(50), p90: ms(90), p99: ms(99), p999: ms(99.9),
                max: Double(histogram.max) / 1000, mean: histogram.mean / 1000)
        }
    }
}

/// Percentiles of a latency distribution, in milliseconds.
package struct LatencySummary: Sendable, Hashable, Codable {
    package var count: Int
    package var p50: Double
    package var p90: Double
    package var p99: Double
    package var p999: Double
    package var max: Double
    package var mean: Double
}
