import AMQP
import Foundation
import Logging
import Messaging
import MessagingConventions
import Postgres
import ServiceLifecycle
import TestSupport
import Testing

/// A throw-away service for one test: its schema (with outbox, inbox and an `effects` table),
/// its queues and tiers on a unique exchange, and connections to the real broker and database.
struct MessagingHarness {
    let service: String
    let exchange: String
    let pool: PostgresPool
    let connection: AMQPConnection
    let queues: ServiceQueues
    var schema: String { service }
    var outbox: Outbox { Outbox(schema: schema) }

    static func make(
        routingKeys: [String] = ["test.#"], tiers: [Duration] = [.milliseconds(300), .milliseconds(600), .milliseconds(1200)],
        acquireTimeout: Duration = .seconds(20)
    ) async throws -> MessagingHarness {
        let service = TestEnvironment.uniqueName("svc")
        let pool = try PostgresPool.forTesting(size: 8, acquireTimeout: acquireTimeout)
        let effects = PostgresMigration(
            version: 100, name: "effects",
            sql: """
                CREATE TABLE \(PostgresQuery.quoteIdentifier(service)).effects (
                    message_id text NOT NULL, attempt int NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp()
                )
                """
        )
        try await PostgresMigrator(schema: service, migrations: MessagingMigrations.all(schema: service) + [effects]).migrate(on: pool)
        let connection = try await AMQPConnection.forTesting(service)
        let exchange = "\(service).events"
        let queues = ServiceQueues(
            service: service, subscriptions: [.init(exchange: exchange, routingKeys: routingKeys)], retryPolicy: RetryPolicy(tiers: tiers)
        )
        try await connection.declare(queues.topology)
        return MessagingHarness(service: service, exchange: exchange, pool: pool, connection: connection, queues: queues)
    }

    func tearDown() async throws {
        for queue in queues.topology.queues { try await connection.delete(queue: queue.name) }
        try await connection.delete(exchange: exchange)
        try await pool.execute("DROP SCHEMA \(identifier: schema) CASCADE")
        await connection.close()
        await pool.close()
    }

    func event(_ type: String = "test.happened", subject: String = "order-1", id: String = UUID().uuidString) throws -> CloudEvent {
        try CloudEvent(id: id, source: "/tests", type: type, subject: subject, payload: ["note": "hello"])
    }

    /// A handler of a test event: it reads only the envelope.
    typealias Handler = @Sendable (EventContext<AnyPayload>) async throws -> Void

    /// A handler that records its effect in `effects`, in the handler's transaction.
    var recordEffect: Handler {
        let schema = self.schema
        return { context in
            try await context.transaction.execute(
                "INSERT INTO \(identifier: schema).effects (message_id, attempt) VALUES (\(context.event.id), \(context.attempt))"
            )
        }
    }

    func effects() async throws -> [(id: String, attempt: Int, at: Date)] {
        try await pool.query("SELECT message_id, attempt, at FROM \(identifier: schema).effects ORDER BY at").map {
            (try $0.decode(String.self, 0), try $0.decode(Int.self, 1), try $0.decode(Date.self, 2))
        }
    }

    static func handlers(_ table: [String: Handler]) -> EventHandlers {
        var handlers = EventHandlers()
        for (type, handle) in table { handlers.on(Event<AnyPayload>(type), each: handle) }
        return handlers
    }

    func consumer(_ handlers: [String: Handler], prefetch: UInt16 = 256) -> MessageConsumer {
        MessageConsumer(
            queues: queues, schema: schema, pool: pool, connection: connection, handlers: Self.handlers(handlers), source: "/tests",
            exchange: exchange, prefetch: prefetch, logger: TestEnvironment.logger(service))
    }

    func relay() -> OutboxRelay {
        OutboxRelay(outbox: outbox, pool: pool, connection: connection, pollInterval: .milliseconds(200), logger: TestEnvironment.logger(service))
    }
}
