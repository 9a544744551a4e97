import Tracing

/// A tracer that propagates W3C trace context and records nothing: every span gets its own id, a
/// child's trace is its parent's, and ``inject(_:into:using:)`` writes the span's `traceparent`.
///
/// It is the default of every Orderly process: one order's saga can be followed across the services
/// by one trace id (in the logs and on every event) at the cost of an id and a context per span, with
/// no exporter, no buffer and no background work. A process that wants spans exported bootstraps
/// another tracer (an OpenTelemetry one, say) with `InstrumentationSystem.bootstrap(_:)` before it
/// builds its parts; ``Telemetry/tracer`` then hands that one out instead.
public struct W3CTracer: Tracer {
    public typealias Span = W3CSpan

    /// The `traceparent` a carrier holds the context under.
    public static let traceparentKey = "traceparent"

    public init() {}

    public func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> ServiceContext, ofKind kind: SpanKind, at instant: @autoclosure () -> Instant,
        function: String, file fileID: String, line: UInt
    ) -> W3CSpan {
        var context = context()
        var generator = SystemRandomNumberGenerator()
        context.traceParent = context.traceParent?.child(using: &generator) ?? .random(using: &generator)
        return W3CSpan(context: context)
    }

    public func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract)
    where Extract.Carrier == Carrier {
        guard let text = extractor.extract(key: Self.traceparentKey, from: carrier), let parent = TraceParent(text) else { return }
        context.traceParent = parent
    }

    public func inject<Carrier, Inject: Injector>(_ context: ServiceContext, into carrier: inout Carrier, using injector: Inject)
    where Inject.Carrier == Carrier {
        guard let traceParent = context.traceParent else { return }
        injector.inject(traceParent.description, forKey: Self.traceparentKey, into: &carrier)
    }

    public func forceFlush() {}
}

/// A span of ``W3CTracer``: its context and nothing else. Attributes, events and errors are dropped,
/// since nothing would read them; ``isRecording`` is `false`, so callers can skip preparing them.
public struct W3CSpan: Tracing.Span {
    public let context: ServiceContext

    init(context: ServiceContext) { self.context = context }

    public var operationName: String {
        get { "" }
        nonmutating set {}
    }

    public var attributes: SpanAttributes {
        get { [:] }
        nonmutating set {}
    }

    public var isRecording: Bool { false }

    public func setStatus(_ status: SpanStatus) {}
    public func addEvent(_ event: SpanEvent) {}
    public func recordError<Instant: TracerInstant>(_ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant) {}
    public func addLink(_ link: SpanLink) {}
    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {}
}

/// Where ``W3CTracer`` keeps a span's trace context.
private enum TraceParentKey: ServiceContextKey {
    typealias Value = TraceParent
    static var nameOverride: String? { "traceparent" }
}

extension ServiceContext {
    /// The W3C trace context of ``W3CTracer``'s span (or of what it extracted).
    public var traceParent: TraceParent? {
        get { self[TraceParentKey.self] }
        set { self[TraceParentKey.self] = newValue }
    }
}
