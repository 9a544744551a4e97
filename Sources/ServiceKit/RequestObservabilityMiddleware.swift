import HTTPTypes
import Hummingbird
import Logging
import Metrics
import Telemetry
import Tracing

/// Traces, logs and measures every HTTP request.
///
/// - **Trace:** a server span per request, the child of the request's `traceparent` header when it
///   has a valid one, else the root of a new trace. The route runs with the span's context as
///   `ServiceContext.current`, so what it starts (an order, and the saga after it) continues the
///   caller's trace.
/// - **Logs:** the request's logger carries `trace.id` and `span.id`.
/// - **Metrics:** `orderly_http_request_duration_seconds{route, method, status}`, a histogram whose
///   route is the matched pattern (`/v1/orders/{id}`), or `unmatched`, never the raw path.
///
/// Add it first, so that it sees the status that the other middleware (``ProblemMiddleware``) makes
/// of an error.
package struct RequestObservabilityMiddleware<Context: RequestContext>: RouterMiddleware {
    let tracer: any Tracer
    let durations: MetricFamily<Metrics.Timer>

    package init(tracer: any Tracer = ProcessTracer.current) {
        self.tracer = tracer
        durations = MetricFamily(timer: "orderly_http_request_duration_seconds", dimensions: ["route", "method", "status"])
    }

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var parent = ServiceContext.topLevel
        tracer.extract(request.headers, into: &parent, using: HTTPFieldsExtractor())
        let span = tracer.startSpan("HTTP \(request.method.rawValue)", context: parent, ofKind: .server)
        var context = context
        if let traceparent = tracer.traceparent(of: span.context) { context.logger.setTrace(traceparent) }
        do {
            let response = try await ServiceContext.$current.withValue(span.context) { try await next(request, context) }
            finish(span, request: request, context: context, status: response.status, since: start)
            return response
        } catch {
            span.recordError(error)
            finish(span, request: request, context: context, status: (error as? any HTTPResponseError)?.status ?? .internalServerError, since: start)
            throw error
        }
    }

    private func finish(_ span: any Span, request: Request, context: Context, status: HTTPResponse.Status, since start: ContinuousClock.Instant) {
        let route = context.endpointPath ?? "unmatched"
        durations(route, request.method.rawValue, String(status.code)).record(duration: ContinuousClock.now - start)
        if span.isRecording {
            span.operationName = "\(request.method.rawValue) \(route)"
            span.attributes["http.response.status_code"] = status.code
        }
        if status.code >= 500 { span.setStatus(SpanStatus(code: .error)) }
        span.end()
    }
}

/// Reads trace headers from a request.
struct HTTPFieldsExtractor: Extractor {
    func extract(key: String, from carrier: HTTPFields) -> String? {
        HTTPField.Name(key).flatMap { carrier[$0] }
    }
}
