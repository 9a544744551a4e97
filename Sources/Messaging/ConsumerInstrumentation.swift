import AMQP
import Logging
import Metrics
import Telemetry
import Tracing

/// What a ``MessageConsumer`` traces and counts, with every metric handle made once, when the consumer is.
///
/// - **Spans:** each event in a batch gets a span of kind `consumer`, the child of the event's
///   `traceparent` (or the root of a new trace when it has none). The span's `traceparent` goes on every
///   event emitted while handling it (``EventContext/traceparent``), and its trace and span ids on the
///   handler's logger, so that one order's lines share one `trace.id` in every service.
/// - **Metrics, by event type:** `orderly_messages_consumed_total{queue, type, outcome}` (outcome
///   `handled`, `duplicate`, `retried` or `parked`) and `orderly_handler_duration_seconds{queue, type}`,
///   the time one handler call took for the events of its type in a batch. A type the consumer has no
///   handler for counts as `other`, so that what arrives from outside cannot add labels.
struct ConsumerInstrumentation: Sendable {
    let tracer: any Tracer
    private let byType: [String: TypeMetrics]
    private let other: TypeMetrics

    /// The handles of one event type.
    struct TypeMetrics: Sendable {
        let spanName: String
        let outcomes: [MessageConsumer.Outcome: Counter]
        let handlerDuration: Metrics.Timer

        init(queue: String, type: String) {
            spanName = "process \(type)"
            outcomes = Dictionary(
                uniqueKeysWithValues: MessageConsumer.Outcome.allCases.map { outcome in
                    (
                        outcome,
                        Counter(
                            label: "orderly_messages_consumed_total", dimensions: [("queue", queue), ("type", type), ("outcome", outcome.rawValue)])
                    )
                })
            handlerDuration = Metrics.Timer(label: "orderly_handler_duration_seconds", dimensions: [("queue", queue), ("type", type)])
        }
    }

    /// - Parameters:
    ///   - types: the event types the consumer has handlers for.
    init(queue: String, types: [String], tracer: any Tracer = ProcessTracer.current) {
        self.tracer = tracer
        byType = Dictionary(uniqueKeysWithValues: types.map { ($0, TypeMetrics(queue: queue, type: $0)) })
        other = TypeMetrics(queue: queue, type: "other")
    }

    func metrics(for type: String?) -> TypeMetrics { type.flatMap { byType[$0] } ?? other }

    /// Starts the span of each event's handling and puts its trace on the event's logger.
    func begin(_ events: inout [Prepared]) {
        for index in events.indices {
            let event = events[index].event
            let (span, traceparent) = tracer.startSpan(metrics(for: event.type).spanName, continuing: event.traceparent, ofKind: .consumer)
            events[index].trace = HandlingTrace(span: span, traceparent: traceparent)
            if let traceparent { events[index].logger.setTrace(traceparent) }
        }
    }

    /// Runs one handler call for the events of `type`, and records how long it took.
    func handling<T>(_ type: String, _ body: () async throws -> T) async rethrows -> T {
        let start = ContinuousClock.now
        defer { metrics(for: type).handlerDuration.record(duration: ContinuousClock.now - start) }
        return try await body()
    }

    /// Counts a settled event by its type and outcome, and ends its span.
    func settled(_ event: Prepared, _ outcome: MessageConsumer.Outcome) {
        metrics(for: event.event.type).outcomes[outcome]?.increment()
        guard let span = event.trace?.span else { return }
        if outcome == .retried || outcome == .parked { span.setStatus(SpanStatus(code: .error)) }
        span.end()
    }

    /// Counts a settled delivery: as its event when it is among `events` (so it has a span to end), else by its
    /// AMQP `type` (it could not be read, or it was a second copy in its batch).
    func settled(_ delivery: AMQPDelivery, _ outcome: MessageConsumer.Outcome, among events: [Prepared]) {
        if let event = events.first(where: { $0.delivery.deliveryTag == delivery.deliveryTag }) {
            settled(event, outcome)
        } else {
            metrics(for: delivery.properties.type).outcomes[outcome]?.increment()
        }
    }

    /// `logger` with what a failed delivery's properties say of its trace and subject, for the lines that
    /// report a retry or a parking: they cannot count on the event having been read.
    func logger(_ logger: Logger, for delivery: AMQPDelivery) -> Logger {
        var logger = logger
        if case .string(let traceparent) = delivery.properties.headers[W3CTracer.traceparentKey], TraceParent(traceparent) != nil {
            // The trace only: the span id there is the sender's, not this handling's.
            logger[metadataKey: LogKey.traceID] = .stringConvertible(TraceField.traceID(of: traceparent))
        }
        if let type = delivery.properties.type { logger[metadataKey: "event.type"] = "\(type.truncatedForReason)" }
        if let subject = delivery.properties.correlationID { logger[metadataKey: "event.subject"] = "\(subject.truncatedForReason)" }
        return logger
    }
}

/// The span of one event's handling, and the `traceparent` it passes on.
struct HandlingTrace: Sendable {
    let span: any Span
    let traceparent: String?
}
