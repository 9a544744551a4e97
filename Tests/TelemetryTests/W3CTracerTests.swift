import Logging
import Metrics
import Telemetry
import Testing
import Tracing

@Suite("W3C tracer and metric families")
struct W3CTracerTests {
    static let incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    let tracer = W3CTracer()

    @Test func aSpanContinuingATraceparentIsItsChildInTheSameTrace() throws {
        let span = tracer.startSpan("process order.placed", context: tracer.context(continuing: Self.incoming), ofKind: .consumer)
        let outgoing = try #require(tracer.traceparent(of: span.context).flatMap { TraceParent($0) })
        let incoming = try #require(TraceParent(Self.incoming))
        #expect(outgoing.traceIDText == incoming.traceIDText)
        #expect(outgoing.parentID != incoming.parentID)
        #expect(outgoing.flags == incoming.flags)
    }

    @Test func twoSpansOfOneParentAreSiblingsWithIdsOfTheirOwn() throws {
        let parent = tracer.context(continuing: Self.incoming)
        let first = try #require(tracer.traceparent(of: tracer.startSpan("a", context: parent).context).flatMap { TraceParent($0) })
        let second = try #require(tracer.traceparent(of: tracer.startSpan("b", context: parent).context).flatMap { TraceParent($0) })
        #expect(first.traceIDText == second.traceIDText)
        #expect(first.parentID != second.parentID)
    }

    @Test(arguments: [nil, "not a traceparent", "00-00000000000000000000000000000000-b7ad6b7169203331-01"])
    func withoutAValidTraceparentASpanStartsANewTrace(_ incoming: String?) throws {
        #expect(tracer.context(continuing: incoming).traceParent == nil)
        let span = tracer.startSpan("x", context: tracer.context(continuing: incoming))
        let outgoing = try #require(tracer.traceparent(of: span.context).flatMap { TraceParent($0) })
        #expect(outgoing.isSampled)
        #expect(tracer.traceparent(of: tracer.startSpan("y").context) != outgoing.description)
    }

    @Test func aContextWithoutASpanInjectsNothing() {
        #expect(tracer.traceparent(of: .topLevel) == nil)
    }

    @Test func theCurrentTraceparentIsTheOneOfTheSpanTheTaskRunsIn() async throws {
        #expect(tracer.currentTraceParent == nil)
        let span = tracer.startSpan("request", context: tracer.context(continuing: Self.incoming), ofKind: .server)
        let current = ServiceContext.$current.withValue(span.context) { tracer.currentTraceParent }
        #expect(current?.description == tracer.traceparent(of: span.context))
    }

    @Test func theProcessTracerIsTheW3COneWhenNoneIsBootstrapped() {
        #expect(ProcessTracer.current is W3CTracer)
    }

    @Test func aLoggerCarriesTheTraceAndSpanOfATraceparent() {
        var logger = Logger(label: "test")
        logger.setTrace(Self.incoming)
        #expect(logger[metadataKey: LogKey.traceID]?.description == "0af7651916cd43dd8448eb211c80319c")
        #expect(logger[metadataKey: LogKey.spanID]?.description == "b7ad6b7169203331")
    }

    @Test func aMetricFamilyMakesEachHandleOnceAndSharesOneBeyondItsLimit() {
        let family = MetricFamily(counter: "test_total", dimensions: ["type", "outcome"], limit: 2)
        let first = family("order.placed", "handled")
        #expect(family("order.placed", "handled") === first)
        let second = family("order.placed", "parked")
        #expect(second !== first)
        let overflow = family("something.else", "handled")
        #expect(family("yet.another", "handled") === overflow)
        #expect(overflow !== first && overflow !== second)
        #expect(family("order.placed", "handled") === first)
    }
}
