import Logging

/// The names of the log metadata keys that tie a line to an order and its trace, the same in every
/// service, so that one `grep` or `jq` filter follows an order across all of them.
package enum LogKey {
    /// The W3C trace id (32 hex digits): one per order's saga, from the HTTP request on.
    package static let traceID = "trace.id"
    /// The span of the work the line is about: one HTTP request, or one event's handling (16 hex digits).
    package static let spanID = "span.id"
    /// The order a line is about.
    package static let orderID = "order.id"
}

/// A part of a `traceparent`, as a log field; cut out only when a line is written, so that a logger that
/// carries it costs nothing more for the lines that are not.
package struct TraceField: CustomStringConvertible, Sendable {
    private let traceparent: String
    private let range: Range<Int>

    /// The trace id of a version-00 `traceparent`.
    package static func traceID(of traceparent: String) -> TraceField { TraceField(traceparent: traceparent, range: 3..<35) }

    /// The parent id of a version-00 `traceparent`: the span that sent it.
    package static func spanID(of traceparent: String) -> TraceField { TraceField(traceparent: traceparent, range: 36..<52) }

    package var description: String {
        let utf8 = traceparent.utf8
        guard utf8.count >= range.upperBound else { return "-" }
        return String(decoding: utf8.dropFirst(range.lowerBound).prefix(range.count), as: UTF8.self)
    }
}

extension Logger {
    /// Puts the trace and span of a `traceparent` on the logger, as ``LogKey/traceID`` and ``LogKey/spanID``.
    package mutating func setTrace(_ traceparent: String) {
        self[metadataKey: LogKey.traceID] = .stringConvertible(TraceField.traceID(of: traceparent))
        self[metadataKey: LogKey.spanID] = .stringConvertible(TraceField.spanID(of: traceparent))
    }
}
