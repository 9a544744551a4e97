import AMQP
import Hummingbird
import Postgres

/// `GET /health/live`, `GET /health/ready` and `GET /metrics`, which every service serves.
public enum HealthRoutes {
    /// Adds the routes. Ready means the broker connection is up and the database answers.
    public static func add<Context: RequestContext>(to router: Router<Context>, pool: PostgresPool, amqp: AMQPConnection) {
        router.get("/health/live") { _, _ in Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "{\"status\":\"live\"}\n"))) }
        router.get("/health/ready") { _, _ in
            var down: [String] = []
            if !amqp.isConnected { down.append("broker") }
            do {
                _ = try await pool.query("SELECT 1")
            } catch {
                down.append("database")
            }
            guard down.isEmpty else {
                throw Problem(.serviceUnavailable, title: "Not ready", detail: "no connection to: \(down.joined(separator: ", "))")
            }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "{\"status\":\"ready\"}\n")))
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: Observability.registry.emitToBuffer()))
            )
        }
    }
}
