import Metrics
import Synchronization

/// The handles of one metric, one per combination of its dimension values, each made the first time it
/// is asked for and kept.
///
/// Making a handle (`Counter(label:dimensions:)`) looks the metric up in the registry behind a lock and
/// allocates its labels; a family does that once per combination, and afterwards costs one dictionary
/// lookup. Past `limit` combinations, new ones share the handle whose every value is `other`, so that
/// values from outside (a status code, an event type) cannot grow the registry without bound.
package final class MetricFamily<Handle: Sendable>: Sendable {
    /// The dimension names, in the order values are given.
    package let dimensions: [String]
    private let limit: Int
    private let make: @Sendable ([(String, String)]) -> Handle
    private let handles = Mutex<[[String]: Handle]>([:])

    /// - Parameters:
    ///   - dimensions: the names of the dimensions whose values vary.
    ///   - limit: the most combinations kept apart.
    ///   - make: makes the handle of one combination from its `(name, value)` pairs.
    package init(dimensions: [String], limit: Int = 64, make: @escaping @Sendable ([(String, String)]) -> Handle) {
        self.dimensions = dimensions
        self.limit = limit
        self.make = make
    }

    /// The handle of one combination: `values` in the order of ``dimensions``.
    package func callAsFunction(_ values: String...) -> Handle { handle(values) }

    /// The handle of one combination: `values` in the order of ``dimensions``.
    package func handle(_ values: [String]) -> Handle {
        handles.withLock { handles in
            if let handle = handles[values] { return handle }
            let key = handles.count < limit ? values : values.map { _ in "other" }
            if let handle = handles[key] { return handle }
            let handle = make(Array(zip(dimensions, key)))
            handles[key] = handle
            return handle
        }
    }
}

extension MetricFamily where Handle == Counter {
    /// Counters named `label`, with `fixed` dimensions on every one and `dimensions` that vary.
    package convenience init(counter label: String, fixed: [(String, String)] = [], dimensions: [String], limit: Int = 64) {
        self.init(dimensions: dimensions, limit: limit) { Counter(label: label, dimensions: fixed + $0) }
    }
}

extension MetricFamily where Handle == Metrics.Timer {
    /// Timers (histograms of durations) named `label`, with `fixed` dimensions on every one and `dimensions` that vary.
    package convenience init(timer label: String, fixed: [(String, String)] = [], dimensions: [String], limit: Int = 64) {
        self.init(dimensions: dimensions, limit: limit) { Metrics.Timer(label: label, dimensions: fixed + $0) }
    }
}
