import Tracing

/// The tracer of this process.
package enum ProcessTracer {
    /// The tracer bootstrapped with `InstrumentationSystem.bootstrap(_:)`, or a ``W3CTracer`` when there is
    /// none, so that trace context is propagated whether or not spans are exported.
    ///
    /// Looking it up takes a lock: a component reads it once, when it is made, and keeps it.
    package static var current: any Tracer {
        let tracer = InstrumentationSystem.tracer
        return tracer is NoOpTracer ? W3CTracer() : tracer
    }
}

/// Reads a `traceparent` from an optional string: the shape in which events and orders hold it.
package struct TraceParentExtractor: Extractor {
    package init() {}

    package func extract(key: String, from carrier: String?) -> String? {
        key == W3CTracer.traceparentKey ? carrier : nil
    }
}

/// Writes a `traceparent` into an optional string.
package struct TraceParentInjector: Injector {
    package init() {}

    package func inject(_ value: String, forKey key: String, into carrier: inout String?) {
        if key == W3CTracer.traceparentKey { carrier = value }
    }
}

extension Tracer {
    /// The `traceparent` that a span with `context` passes on, as this tracer writes it; `nil` when it writes none.
    package func traceparent(of context: ServiceContext) -> String? {
        var carrier: String?
        inject(context, into: &carrier, using: TraceParentInjector())
        return carrier
    }

    /// The context a `traceparent` (an event's, an order's) continues; empty for `nil` or a value that is not one.
    package func context(continuing traceparent: String?) -> ServiceContext {
        var context = ServiceContext.topLevel
        if traceparent != nil { extract(traceparent, into: &context, using: TraceParentExtractor()) }
        return context
    }
}

extension Tracer {
    /// The `traceparent` of the task's current span (`ServiceContext.current`), as W3C trace context;
    /// `nil` outside a span.
    package var currentTraceParent: TraceParent? {
        ServiceContext.current.flatMap { traceparent(of: $0) }.flatMap { TraceParent($0) }
    }
}

extension Tracer {
    /// Starts a span that continues `traceparent` (or starts a new trace when it is `nil` or not valid), and
    /// returns it with the `traceparent` it passes on: the span's own, or `traceparent` itself when this
    /// tracer writes none.
    package func startSpan(_ operationName: String, continuing traceparent: String?, ofKind kind: SpanKind) -> (
        span: Self.Span, traceparent: String?
    ) {
        let span = startSpan(operationName, context: context(continuing: traceparent), ofKind: kind)
        return (span, self.traceparent(of: span.context) ?? traceparent)
    }
}
