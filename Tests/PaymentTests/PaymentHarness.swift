import AMQP
import Contracts
import Foundation
import GatewaySim
import Messaging
import MessagingConventions
import Payment
import Postgres
import ServiceLifecycle
import TestSupport
import Testing

/// A throw-away payment-service for one test: its own schema, work queue, tiers and parking queue,
/// an input exchange standing in for the saga's exchanges, an output exchange, and a real
/// gateway-sim on a free port with its ledger in a schema of its own. Real broker, real database, real HTTP.
struct PaymentHarness {
    let name: String
    let input: String
    let output: String
    let pool: PostgresPool
    let connection: AMQPConnection
    let queues: ServiceQueues
    let simulator: GatewaySimulator
    let gatewayTimeout: Duration
    var schema: String { name }
    var gatewaySchema: String { "\(name)_gateway" }

    static let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    static func make(
        tiers: [Duration] = [.milliseconds(200), .milliseconds(400), .milliseconds(800), .milliseconds(1600)],
        gatewayTimeout: Duration = .seconds(5), slowDelay: Duration = .seconds(2)
    ) async throws -> PaymentHarness {
        let name = TestEnvironment.uniqueName("payment")
        let input = "\(name).in"
        let output = "\(name).out"
        let pool = try PostgresPool.forTesting(size: 12)
        try await PostgresMigrator(schema: name, migrations: PaymentMigrations.all(schema: name)).migrate(on: pool)
        let gatewaySchema = "\(name)_gateway"
        try await PostgresMigrator(schema: gatewaySchema, migrations: GatewaySimulator.migrations(schema: gatewaySchema)).migrate(on: pool)
        let connection = try await AMQPConnection.forTesting(name)
        let keys = [EventType.orderPlaced, .orderCancelled, .paymentRefundRequested].map(\.rawValue)
        let queues = ServiceQueues(service: name, subscriptions: [.init(exchange: input, routingKeys: keys)], retryPolicy: RetryPolicy(tiers: tiers))
        try await connection.declare(queues.topology.merging(AMQPTopology(exchanges: [.init(name: output)])))
        let simulator = GatewaySimulator(schema: gatewaySchema, pool: pool, slowDelay: slowDelay, logger: TestEnvironment.logger(gatewaySchema))
        return PaymentHarness(
            name: name, input: input, output: output, pool: pool, connection: connection, queues: queues, simulator: simulator,
            gatewayTimeout: gatewayTimeout
        )
    }

    func tearDown() async throws {
        for queue in queues.topology.queues { try await connection.delete(queue: queue.name) }
        try await connection.delete(exchange: input)
        try await connection.delete(exchange: output)
        try await pool.execute("DROP SCHEMA \(identifier: schema) CASCADE")
        try await pool.execute("DROP SCHEMA \(identifier: gatewaySchema) CASCADE")
        await connection.close()
        await pool.close()
    }

    /// Runs the gateway on a free port and payment-service against it until `body` returns, then shuts both down.
    func running<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        let server = GatewaySimServer(simulator: simulator, logger: TestEnvironment.logger("\(name).gateway"))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await server.run() }
            let configuration = PaymentConfiguration(
                schema: schema, queues: queues, exchange: output, prefetch: 8, gatewayURL: await server.baseURL(), gatewayTimeout: gatewayTimeout
            )
            let service = PaymentService(configuration: configuration, pool: pool, connection: connection, logger: TestEnvironment.logger(name))
            // No relay: the events stay in the outbox, where the tests read what was emitted.
            let group = ServiceGroup(
                configuration: .init(
                    services: [
                        ServiceGroupConfiguration.ServiceConfiguration(service: GatewayClientCloser(client: service.gateway)),
                        .init(service: service.consumer()),
                    ],
                    logger: TestEnvironment.logger(name)))
            tasks.addTask { try await group.run() }
            let result: Result<T, any Error>
            do {
                result = .success(try await body())
            } catch {
                result = .failure(error)
            }
            await group.triggerGracefulShutdown()
            tasks.cancelAll()
            while !tasks.isEmpty { _ = try? await tasks.next() }
            return try result.get()
        }
    }

    // MARK: Input

    func publish(_ type: EventType, subject: String, id: String = UUID().uuidString, payload: some Encodable) async throws {
        let event = try CloudEvent(id: id, source: "/tests", type: type.rawValue, subject: subject, traceparent: Self.traceparent, payload: payload)
        try await connection.publish(event.amqpMessage(), exchange: input, routingKey: type.rawValue)
    }

    static func placed(_ orderID: String, token: String) -> OrderPlaced {
        let items = [OrderLine(sku: "SKU-1", quantity: 2, unitPriceCents: 1250)]
        return OrderPlaced(
            orderID: orderID, customer: Customer(id: "c-1", email: "ada@example.com"), currency: "EUR", items: items, totalCents: 2500,
            paymentToken: token
        )
    }

    func orderPlaced(_ orderID: String, token: String = "tok_ok", id: String = UUID().uuidString) async throws {
        try await publish(.orderPlaced, subject: orderID, id: id, payload: Self.placed(orderID, token: token))
    }

    func orderCancelled(_ orderID: String, id: String = UUID().uuidString) async throws {
        let outcome = OrderOutcome(
            orderID: orderID, status: .cancelled, customer: Customer(id: "c-1", email: "ada@example.com"), currency: "EUR", totalCents: 2500,
            reason: "deadline exceeded"
        )
        try await publish(.orderCancelled, subject: orderID, id: id, payload: outcome)
    }

    func refundRequested(_ orderID: String, paymentID: String, id: String = UUID().uuidString) async throws {
        try await publish(
            .paymentRefundRequested, subject: orderID, id: id,
            payload: RefundRequested(orderID: orderID, paymentID: paymentID, amountCents: 2500, currency: "EUR", reason: "out of stock")
        )
    }

    /// Charges the order at the gateway with the key payment-service uses, as an instance that died before its commit did.
    func chargeAtTheGateway(_ orderID: String) async throws {
        let server = GatewaySimServer(simulator: simulator, logger: TestEnvironment.logger("\(name).gateway"))
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try? await server.run() }
            let client = GatewayClient(baseURL: await server.baseURL(), timeout: .seconds(5), logger: TestEnvironment.logger(name))
            let placed = Self.placed(orderID, token: "tok_ok")
            _ = await client.charge(
                amountCents: placed.totalCents, currency: placed.currency, token: placed.paymentToken,
                idempotencyKey: PaymentDecisions.chargeKey(orderID: orderID), orderID: orderID)
            await client.shutdown()
            tasks.cancelAll()
        }
    }

    /// Takes the next message of the work queue on a connection of its own and closes that connection
    /// without settling it, as a crashed consumer would: the broker delivers it again, marked redelivered.
    func takeAndDropOneDelivery() async throws {
        let crashing = try await AMQPConnection.forTesting("\(name).crashing")
        let consumer = try await crashing.consume(queue: queues.workQueue, prefetch: 1)
        let taken = try await consumer.collect(1, within: .seconds(10))
        #expect(taken.count == 1)
        await crashing.close()
    }

    // MARK: Observations

    /// What the gateway's ledger shows for an order: the ground truth of what money moved.
    func ledger(_ orderID: String) async throws -> GatewayLedgerReport { try await simulator.ledger(orderID: orderID) }

    /// The events payment-service emitted for an order, in order.
    func emitted(_ orderID: String) async throws -> [CloudEvent] {
        try await pool.query("SELECT envelope FROM \(identifier: schema).outbox WHERE aggregate_id = \(orderID) ORDER BY id").map {
            try CloudEvent(json: Data(try $0.decode(String.self, 0).utf8))
        }
    }

    /// Whether the messages with these event ids were handled (committed with their inbox records).
    func handled(_ eventIDs: String...) async throws -> Bool {
        let inbox = Inbox(schema: schema, consumer: queues.workQueue)
        for id in eventIDs where try await !inbox.contains(id, on: pool) { return false }
        return true
    }

    /// How many messages sit in the parking queue.
    func parked() async throws -> UInt32 { try await connection.status(ofQueue: queues.parkingQueue).messageCount }

}
