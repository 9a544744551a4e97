import AMQP
import Contracts
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Messaging
import MessagingConventions
import Postgres
import ServiceKit
import ServiceLifecycle
import TestSupport
import Testing

@testable import Order

/// A throw-away order-service for one test: its own schema, and (when asked) its own queues on its
/// own exchanges, against the real database and broker. Nothing touches the real saga's queues.
struct OrderHarness {
    let name: String
    let pool: PostgresPool
    let configuration: OrderServiceConfiguration
    var schema: String { configuration.schema }
    var saga: OrderSaga { OrderSaga(schema: schema, events: configuration.events) }
    /// Where the tests publish the events the service consumes.
    var inputExchange: String { "\(name).in" }

    static func make(configure: (inout OrderServiceConfiguration) -> Void = { _ in }) async throws -> OrderHarness {
        let name = TestEnvironment.uniqueName("orders_test")
        let pool = try PostgresPool.forTesting(size: 8)
        var configuration = OrderServiceConfiguration()
        configuration.schema = name
        configuration.events = OrderEvents(source: "/orderly/order-service", exchange: "\(name).orders")
        configuration.queues = ServiceQueues(
            service: name,
            subscriptions: [.init(exchange: "\(name).in", routingKeys: Subscriptions.order.subscriptions.flatMap(\.routingKeys))],
            retryPolicy: RetryPolicy(tiers: [.milliseconds(200), .milliseconds(400)])
        )
        configuration.deadlinePollInterval = .milliseconds(100)
        configure(&configuration)
        try await PostgresMigrator(schema: name, migrations: OrderMigrations.all(schema: name)).migrate(on: pool)
        return OrderHarness(name: name, pool: pool, configuration: configuration)
    }

    func tearDown(connection: AMQPConnection? = nil) async throws {
        if let connection {
            for queue in configuration.queues.topology.queues { try await connection.delete(queue: queue.name) }
            try await connection.delete(exchange: inputExchange)
            await connection.close()
        }
        try await pool.execute("DROP SCHEMA \(identifier: schema) CASCADE")
        await pool.close()
    }

    // MARK: HTTP

    /// Runs `body` against the service's routes (with the tracing and problem middleware, as in production), without a socket.
    func withAPI<T: Sendable>(
        backlog: SagaBacklog? = nil, _ body: @Sendable @escaping (any TestClientProtocol) async throws -> T
    ) async throws -> T {
        let router = Router(context: ServiceRequestContext.self)
        router.add(middleware: RequestObservabilityMiddleware())
        router.add(middleware: ProblemMiddleware())
        let backlog = backlog ?? SagaBacklog(store: saga.store, pool: pool, limit: 0, logger: TestEnvironment.logger(name))
        OrderAPI(saga: saga, pool: pool, configuration: configuration, backlog: backlog).addRoutes(to: router)
        return try await Application(router: router, logger: TestEnvironment.logger(name)).test(.router) { client in try await body(client) }
    }

    // MARK: Database

    /// The events in the outbox, oldest first, as (type, payload JSON, traceparent).
    func outbox() async throws -> [(type: String, exchange: String, event: CloudEvent)] {
        try await pool.query("SELECT exchange, envelope FROM \(identifier: schema).outbox ORDER BY id").map { row in
            let event = try CloudEvent(json: Data(try row.decode(String.self, "envelope").utf8))
            return (event.type, try row.decode(String.self, "exchange"), event)
        }
    }

    func count(_ table: String, where condition: PostgresQuery = "true") async throws -> Int {
        var query = PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(PostgresQuery.quoteIdentifier(schema)).\(table) WHERE ")
        query.sql += condition.sql
        query.parameters = condition.parameters
        return try await pool.query(query)[0].decode(Int.self, 0)
    }

    /// An order request every rule accepts.
    static let validRequest = OrderRequest(
        customer: Customer(id: "c-42", email: "ada@example.com"), currency: "EUR",
        items: [OrderLine(sku: "SKU-001", quantity: 2, unitPriceCents: 1250)], payment: PaymentMethod(token: "tok_ok")
    )

    /// Places an order directly, as the HTTP intake would, and returns it.
    func placeOrder(_ request: OrderRequest = OrderHarness.validRequest) async throws -> Order {
        let order = NewOrder(request: request, origin: .http(idempotencyKey: nil), traceparent: .random(), sagaDeadline: configuration.sagaDeadline)
        let placement = try await pool.transaction { try await saga.place(order, in: $0) }
        guard case .placed(let placed) = placement else { throw HarnessError("the order was not placed: \(placement)") }
        return placed
    }

    func order(_ id: OrderID) async throws -> Order? { try await saga.store.order(id: id, on: pool) }

    // MARK: Broker

    func connect() async throws -> AMQPConnection {
        let connection = try await AMQPConnection.forTesting(name)
        try await connection.declare(configuration.queues.topology)
        return connection
    }

    func consumer(_ connection: AMQPConnection) -> MessageConsumer {
        MessageConsumer(
            queues: configuration.queues, schema: schema, pool: pool, connection: connection,
            handlers: OrderEventHandlers.make(saga: saga, sagaDeadline: configuration.sagaDeadline), source: configuration.events.source,
            exchange: configuration.events.exchange, logger: TestEnvironment.logger(name)
        )
    }

    /// Publishes `payload` as an event of `type` about `subject` to the service's input exchange.
    @discardableResult
    func publish(
        _ type: EventType, _ payload: some Encodable, subject: String?, id: String = UUID().uuidString.lowercased(), traceparent: String? = nil,
        on connection: AMQPConnection
    ) async throws -> CloudEvent {
        let event = try CloudEvent(id: id, source: "/tests", type: type.rawValue, subject: subject, traceparent: traceparent, payload: payload)
        try await connection.publish(event.amqpMessage(), exchange: inputExchange, routingKey: type.rawValue)
        return event
    }

}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
