import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import ServiceKit
import Telemetry
import Testing

@Suite("Request tracing and logging")
struct RequestObservabilityMiddlewareTests {
    static let incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    static let traceparent = HTTPField.Name("traceparent")!

    struct Seen: Decodable {
        var traceparent: String?
        var traceID: String?
        var spanID: String?
    }

    /// A router whose route answers with the trace context it runs in and what its logger carries.
    static func application() -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: RequestObservabilityMiddleware())
        router.add(middleware: ProblemMiddleware())
        router.get("/seen") { _, context in
            let seen = [
                "traceparent": W3CTracer().currentTraceParent?.description,
                "traceID": context.logger[metadataKey: LogKey.traceID]?.description,
                "spanID": context.logger[metadataKey: LogKey.spanID]?.description,
            ]
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder().encode(seen))))
        }
        router.get("/broken") { _, _ -> Response in throw Problem(.serviceUnavailable, detail: "down") }
        return Application(router: router, logger: Logger(label: "test"))
    }

    @Test func aRequestWithATraceparentRunsInAChildSpanOfItAndItsLoggerSaysSo() async throws {
        try await Self.application().test(.router) { client in
            let response = try await client.execute(uri: "/seen", method: .get, headers: [Self.traceparent: Self.incoming])
            #expect(response.status == .ok)
            let seen = try JSONDecoder().decode(Seen.self, from: Data(buffer: response.body))
            let current = try #require(seen.traceparent.flatMap { TraceParent($0) })
            #expect(current.traceIDText == "4bf92f3577b34da6a3ce929d0e0e4736")
            #expect(current.parentIDText != "00f067aa0ba902b7")
            #expect(seen.traceID == current.traceIDText)
            #expect(seen.spanID == current.parentIDText)
        }
    }

    @Test(arguments: [nil, "00-zz-nonsense-01"])
    func aRequestWithoutAValidTraceparentStartsANewTrace(_ header: String?) async throws {
        try await Self.application().test(.router) { client in
            var headers: HTTPFields = [:]
            if let header { headers[Self.traceparent] = header }
            let first = try JSONDecoder().decode(
                Seen.self, from: Data(buffer: try await client.execute(uri: "/seen", method: .get, headers: headers).body))
            let second = try JSONDecoder().decode(
                Seen.self, from: Data(buffer: try await client.execute(uri: "/seen", method: .get, headers: headers).body))
            let one = try #require(first.traceparent.flatMap { TraceParent($0) })
            let two = try #require(second.traceparent.flatMap { TraceParent($0) })
            #expect(one.traceIDText != two.traceIDText)
            #expect(first.traceID == one.traceIDText)
        }
    }

    @Test func errorsStillBecomeProblemDetailsBehindIt() async throws {
        try await Self.application().test(.router) { client in
            let response = try await client.execute(uri: "/broken", method: .get, headers: [Self.traceparent: Self.incoming])
            #expect(response.status == .serviceUnavailable)
            #expect(response.headers[.contentType] == "application/problem+json")
            #expect(try await client.execute(uri: "/nowhere", method: .get).status == .notFound)
        }
    }
}
