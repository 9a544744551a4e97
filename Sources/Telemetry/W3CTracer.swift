import Tracing

/// A tracer that propagates W3C trace context and records nothing: every span gets its own id, a
/// child's trace is its parent's, and ``inject(_:into:using:)`` writes the span's `traceparent`.
///
/// It is the default of every Orderly process: one order's saga can be followed across the services
/// by one trace id (in the logs and on every event) at the cost of an id and a context per span, with
/// no exporter, no buffer and no background work. A process that wants spans exported bootstraps
/// another tracer (an OpenTelemetry one, say) with `InstrumentationSystem.bootstrap(_:)` before it
/// builds its parts; ``Telemetry/tracer`` then hands that one out instead.
package struct W3CTracer: Tracer {
    package typealias Span = W3CSpan

    /// The `traceparent` a carrier holds the context under.
    package static let traceparentKey = "traceparent"

    package init() {}

    package func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> ServiceContext, ofKind kind: SpanKind, at instant: @autoclosure () -> Instant,
        function: String, file fileID: String, line: UInt
    ) -> W3CSpan {
        var context = context()
        var generator = SystemRandomNumberGenerator()
        context.traceParent = context.traceParent?.child(using: &generator) ?? .random(using: &generator)
        return W3CSpan(context: context)
    }

    package func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract)
    where Extract.Carrier == Carrier {
        guard let text = extractor.extract(key: Self.traceparentKey, from: carrier), let parent = TraceParent(text) else { return }
        context.traceParent = parent
    }

    package func inject<Carrier, Inject: Injector>(_ context: ServiceContext, into carrier: inout Carrier, using injector: Inject)
    where Inject.Carrier == Carrier {
        guard let traceParent = context.traceParent else { return }
        injector.inject(traceParent.description, forKey: Self.traceparentKey, into: &carrier)
    }

    package func forceFlush() {}
}

/// A span of ``W3CTracer``: its context and nothing else. Attributes, events and errors are dropped,
/// since nothing would read them; ``isRecording`` is `false`, so callers can skip preparing them.
package struct W3CSpan: Tracing.Span {
    package let context: ServiceContext

    init(context: ServiceContext) { self.context = context }

    package var operationName: String {
        get { "" }
        nonmutating set {}
    }

    package var attributes: SpanAttributes {
        get { [:] }
        nonmutating set {}
    }

    package var isRecording: Bool { false }

    package func setStatus(_ status: SpanStatus) {}
    package func addEvent(_ event: SpanEvent) {}
    package func recordError<Instant: TracerInstant>(_ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant) {}
    package func addLink(_ link: SpanLink) {}
    package func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {}
}

/// Where ``W3CTracer`` keeps a span's trace context.
private enum TraceParentKey: ServiceContextKey {
    typealias Value = TraceParent
    static var nameOverride: String? { "traceparent" }
}

extension ServiceContext {
    /// The W3C trace context of ``W3CTracer``'s span (or of what it extracted).
    package var traceParent: TraceParent? {
        get { self[TraceParentKey.self] }
        set { self[TraceParentKey.self] = newValue }
    }
}
