import AMQP
import Contracts
import Foundation
import Inventory
import Messaging
import MessagingConventions
import Postgres
import ServiceLifecycle
import TestSupport
import Testing

/// A throw-away inventory-service for one test: its own schema, work queue, tiers, parking queue,
/// an input exchange standing in for the saga's exchanges, and an output exchange with a probe
/// queue that sees what it publishes. Real broker, real database.
struct InventoryHarness {
    let name: String
    let input: String
    let output: String
    let probe: String
    let pool: PostgresPool
    let connection: AMQPConnection
    let service: InventoryService
    var schema: String { name }
    var queues: ServiceQueues { service.configuration.queues }

    static func make(tiers: [Duration] = [.milliseconds(200), .milliseconds(400)]) async throws -> InventoryHarness {
        let name = TestEnvironment.uniqueName("inventory")
        let input = "\(name).in"
        let output = "\(name).out"
        let probe = "\(name).probe"
        let pool = try PostgresPool.forTesting(size: 8)
        try await PostgresMigrator(schema: name, migrations: InventoryMigrations.all(schema: name)).migrate(on: pool)
        let connection = try await AMQPConnection.forTesting(name)
        let keys = [EventType.paymentSucceeded, .orderCancelled, .stockAdjusted].map(\.rawValue)
        let queues = ServiceQueues(service: name, subscriptions: [.init(exchange: input, routingKeys: keys)], retryPolicy: RetryPolicy(tiers: tiers))
        try await connection.declare(queues.topology.merging(.probe(exchange: output, queue: probe)))
        let service = InventoryService(
            configuration: InventoryConfiguration(schema: name, queues: queues, exchange: output),
            pool: pool, connection: connection, logger: TestEnvironment.logger(name)
        )
        return InventoryHarness(name: name, input: input, output: output, probe: probe, pool: pool, connection: connection, service: service)
    }

    func tearDown() async throws {
        for queue in queues.topology.queues { try await connection.delete(queue: queue.name) }
        try await connection.delete(queue: probe)
        try await connection.delete(exchange: input)
        try await connection.delete(exchange: output)
        try await pool.execute("DROP SCHEMA \(identifier: schema) CASCADE")
        await connection.close()
        await pool.close()
    }

    // MARK: Input

    func publish(_ type: EventType, subject: String, id: String = UUID().uuidString, payload: some Encodable) async throws {
        let event = try CloudEvent(id: id, source: "/tests", type: type.rawValue, subject: subject, traceparent: Self.traceparent, payload: payload)
        try await connection.publish(event.amqpMessage(), exchange: input, routingKey: type.rawValue)
    }

    func paymentSucceeded(_ orderID: String, _ items: [OrderLine]) async throws {
        let total = items.reduce(0) { $0 + $1.quantity * $1.unitPriceCents }
        try await publish(
            .paymentSucceeded, subject: orderID,
            payload: PaymentSucceeded(orderID: orderID, paymentID: "pay-\(orderID)", amountCents: total, currency: "EUR", items: items)
        )
    }

    func orderCancelled(_ orderID: String) async throws {
        let customer = Customer(id: "c-1", email: "ada@example.com")
        try await publish(
            .orderCancelled, subject: orderID,
            payload: OrderOutcome(
                orderID: orderID, status: .cancelled, customer: customer, currency: "EUR", totalCents: 0, reason: "deadline exceeded")
        )
    }

    /// Stocks a SKU directly, as if adjustments had brought it there.
    func stock(_ sku: String, available: Int) async throws {
        try await pool.execute("INSERT INTO \(identifier: schema).stock (sku, available) VALUES (\(sku), \(available))")
    }

    static let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    // MARK: Observation

    func level(_ sku: String) async throws -> StockLevel? {
        try await service.store.level(sku: sku, on: pool)
    }

    /// How many events the consumer has taken in (handled, whatever the outcome).
    func handledCount() async throws -> Int {
        try await pool.query("SELECT count(*) FROM \(identifier: schema).inbox")[0].decode(Int.self, 0)
    }

    /// Everything written to the outbox, in order.
    func emitted() async throws -> [CloudEvent] {
        try await pool.query("SELECT envelope FROM \(identifier: schema).outbox ORDER BY id").map {
            try CloudEvent(json: Data(try $0.decode(String.self, 0).utf8))
        }
    }

    func emitted(_ type: EventType) async throws -> [CloudEvent] {
        try await emitted().filter { $0.type == type.rawValue }
    }

    /// Runs the service's consumer (and relay) until `body` returns, then shuts them down gracefully.
    func running<T: Sendable>(withRelay: Bool = false, _ body: () async throws -> T) async throws -> T {
        var services: [any Service] = [service.consumer()]
        if withRelay { services.append(service.relay(pollInterval: .milliseconds(100))) }
        return try await TestSupport.running(services, body)
    }
}
