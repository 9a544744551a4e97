import AMQP
import Contracts
import Foundation
import Messaging
import MessagingConventions
import Notification
import Postgres
import ServiceLifecycle
import TestSupport
import Testing

/// A throw-away notification-service for one test: its own schema, queues (with short tiers),
/// an input exchange standing in for `orderly.orders`, an output exchange with a probe queue,
/// and a temporary mail folder. Real broker, real database.
struct NotificationHarness {
    let name: String
    let input: String
    let output: String
    let probe: String
    let mailDirectory: URL
    let pool: PostgresPool
    let connection: AMQPConnection
    let configuration: NotificationConfiguration
    var schema: String { name }
    var queues: ServiceQueues { configuration.queues }
    var store: NotificationStore { NotificationStore(schema: schema) }

    static func make(
        webhook: NotificationConfiguration.Webhook? = nil, tiers: [Duration] = [.milliseconds(200), .milliseconds(400), .milliseconds(800)]
    ) async throws -> NotificationHarness {
        let name = TestEnvironment.uniqueName("notification")
        let input = "\(name).in"
        let output = "\(name).out"
        let probe = "\(name).probe"
        let mailDirectory = FileManager.default.temporaryDirectory.appendingPathComponent(name)
        let pool = try PostgresPool.forTesting(size: 4)
        try await PostgresMigrator(schema: name, migrations: NotificationMigrations.all(schema: name)).migrate(on: pool)
        let connection = try await AMQPConnection.forTesting(name)
        let queues = ServiceQueues(
            service: name, subscriptions: [.init(exchange: input, routingKeys: CustomerNotification.Outcome.allCases.map(\.rawValue))],
            retryPolicy: RetryPolicy(tiers: tiers)
        )
        try await connection.declare(queues.topology.merging(.probe(exchange: output, queue: probe)))
        let configuration = NotificationConfiguration(
            schema: name, queues: queues, exchange: output, mailDirectory: mailDirectory, mailFrom: "Orderly <orders@shop.example>", webhook: webhook
        )
        return NotificationHarness(
            name: name, input: input, output: output, probe: probe, mailDirectory: mailDirectory, pool: pool, connection: connection,
            configuration: configuration
        )
    }

    func tearDown() async throws {
        for queue in queues.topology.queues { try await connection.delete(queue: queue.name) }
        try await connection.delete(queue: probe)
        try await connection.delete(exchange: input)
        try await connection.delete(exchange: output)
        try await pool.execute("DROP SCHEMA \(identifier: schema) CASCADE")
        try? FileManager.default.removeItem(at: mailDirectory)
        await connection.close()
        await pool.close()
    }

    var service: NotificationService {
        NotificationService(configuration: configuration, pool: pool, connection: connection, logger: TestEnvironment.logger(name))
    }

    static let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    /// Publishes an order outcome as order-service would.
    func publishOutcome(
        _ outcome: CustomerNotification.Outcome, orderID: String, id: String = UUID().uuidString, reason: String? = nil
    ) async throws {
        let status: OrderOutcome.Status = ["order.completed": .completed, "order.failed": .failed, "order.cancelled": .cancelled][outcome.rawValue]!
        let payload = OrderOutcome(
            orderID: orderID, status: status, customer: Customer(id: "c-42", email: "ada@example.com"), currency: "EUR", totalCents: 2500,
            reason: reason
        )
        let event = try CloudEvent(
            id: id, source: "/tests", type: outcome.rawValue, subject: orderID, traceparent: Self.traceparent, payload: payload)
        try await connection.publish(event.amqpMessage(), exchange: input, routingKey: outcome.rawValue)
    }

    func handledCount() async throws -> Int {
        try await pool.query("SELECT count(*) FROM \(identifier: schema).inbox")[0].decode(Int.self, 0)
    }

    /// The events written to the outbox, in order.
    func emitted() async throws -> [CloudEvent] {
        try await pool.query("SELECT envelope FROM \(identifier: schema).outbox ORDER BY id").map {
            try CloudEvent(json: Data(try $0.decode(String.self, 0).utf8))
        }
    }

    func mailFiles() throws -> [URL] {
        guard FileManager.default.fileExists(atPath: mailDirectory.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(at: mailDirectory, includingPropertiesForKeys: nil).filter { $0.pathExtension == "eml" }
    }

    /// Runs the consumer (and the relay, which empties the outbox as it publishes) until `body` returns,
    /// then shuts them down gracefully.
    func running<T: Sendable>(withRelay: Bool = false, _ body: () async throws -> T) async throws -> T {
        try await TestSupport.running([service.consumer()] + (withRelay ? [service.relay(pollInterval: .milliseconds(100))] : []), body)
    }
}
