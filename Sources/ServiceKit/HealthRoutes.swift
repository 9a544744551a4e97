import AMQP
import Foundation
import Hummingbird
import Messaging
import Postgres
import Synchronization

/// The parts of a service that report their health, filled in once they are built.
package final class HealthRegistry: Sendable {
    private let components = Mutex<[any HealthReporting]>([])

    package init() {}

    package func register(_ reporters: [any HealthReporting]) {
        components.withLock { $0.append(contentsOf: reporters) }
    }

    var health: [ComponentHealth] { components.withLock { $0.map(\.health) } }
}

/// `GET /health/live`, `GET /health/ready` and `GET /metrics`, which every service serves.
package enum HealthRoutes {
    /// Adds the routes.
    ///
    /// Ready (`200`) means the broker connection is up, the database answers and no registered
    /// component is `down`; a `degraded` component (events the broker does not take) keeps the service
    /// ready but shows in the report. Not ready is `503` problem details naming each check that failed
    /// and why. Both carry every check:
    ///
    /// ```json
    /// {"status":"degraded","checks":{"broker":{"status":"up"},"database":{"status":"up"},
    ///  "consumer":{"status":"up"},"outbox":{"status":"degraded","detail":"2 event(s) not taken …"}}}
    /// ```
    package static func add<Context: RequestContext>(
        to router: Router<Context>, pool: PostgresPool, amqp: AMQPConnection, components: HealthRegistry = HealthRegistry()
    ) {
        router.get("/health/live") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{\"status\":\"live\"}\n")))
        }
        router.get("/health/ready") { request, context in
            var checks: [ComponentHealth] = []
            if let error = amqp.lastError ?? (amqp.isConnected ? nil : AMQPError(.connectionFailed, "not connected yet")) {
                checks.append(ComponentHealth(name: "broker", status: .down, detail: "\(error)"))
            } else {
                checks.append(ComponentHealth(name: "broker", status: .up))
            }
            do {
                _ = try await pool.query("SELECT 1")
                checks.append(ComponentHealth(name: "database", status: .up))
            } catch {
                checks.append(ComponentHealth(name: "database", status: .down, detail: "\(error)"))
            }
            checks += components.health
            return try ReadinessReport(checks: checks).response(from: request, context: context)
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: Observability.registry.emitToBuffer()))
            )
        }
    }
}

/// The answer of `/health/ready`: the worst status of the checks, and each check.
struct ReadinessReport {
    var checks: [ComponentHealth]

    var status: ComponentHealth.Status { checks.map(\.status).max() ?? .up }

    private struct Body: ResponseEncodable {
        struct Check: Encodable {
            var status: String
            var detail: String?
        }
        var status: String
        var checks: [String: Check]
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = Body(
            status: status == .up ? "ready" : status.rawValue,
            checks: Dictionary(checks.map { ($0.name, Body.Check(status: $0.status.rawValue, detail: $0.detail)) }) { first, _ in first })
        guard status != .down else {
            let failing = checks.filter { $0.status == .down }.map { "\($0.name): \($0.detail ?? "down")" }
            return try Problem(
                .serviceUnavailable, title: "Not ready", detail: failing.joined(separator: "; "),
                extensions: ["checks": try JSONEncoder.orderly.encode(body.checks)]
            ).response(from: request, context: context)
        }
        return try body.response(from: request, context: context)
    }
}
