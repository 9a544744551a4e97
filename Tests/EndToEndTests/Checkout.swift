import AMQP
import Contracts
import Foundation
import Messaging
import MessagingConventions
import NIOHTTP1
import Postgres
import TestSupport
import Testing

/// What the end-to-end tests read back from a running system: orders, the gateway's ledger,
/// stock, and notifications, all through the public HTTP APIs (and the database for what has none).
struct Checkout {
    let system: SystemUnderTest

    /// Reads the contract's snake_case JSON into camel-case properties.
    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }()

    init() throws {
        system = try #require(SystemUnderTest.current, "the suite needs the .runningSystem trait")
    }

    // MARK: Orders

    struct Order: Decodable {
        struct Entry: Decodable { var status: String }
        var id: String
        var status: String
        var totalCents: Int
        var paymentId: String?
        var failureReason: String?
        var history: [Entry]
    }

    static func body(sku: String, quantity: Int = 2, price: Int = 1250, token: String = "tok_ok", customer: String = "c-42") -> String {
        """
        {"customer":{"id":"\(customer)","email":"ada@example.com"},"currency":"EUR",
         "items":[{"sku":"\(sku)","quantity":\(quantity),"unit_price_cents":\(price)}],"payment":{"token":"\(token)"}}
        """
    }

    /// Places an order and returns its id; the answer must be 202 with a Location.
    func place(sku: String, quantity: Int = 2, price: Int = 1250, token: String = "tok_ok", key: String? = nil) async throws -> String {
        var headers = [("Content-Type", "application/json")]
        if let key { headers.append(("Idempotency-Key", key)) }
        let response = try await system.request(
            .POST, path: "/v1/orders", body: Self.body(sku: sku, quantity: quantity, price: price, token: token), headers: headers)
        #expect(response.status == 202)
        let order = try Checkout.decoder.decode(Order.self, from: response.body)
        #expect(response.headers.first(name: "Location") == "/v1/orders/\(order.id)")
        return order.id
    }

    func order(_ id: String) async throws -> Order {
        try Checkout.decoder.decode(Order.self, from: try await system.request(.GET, path: "/v1/orders/\(id)").body)
    }

    /// Waits until the order is terminal and returns it.
    /// The statuses an order ends in.
    static let terminal: Set<String> = ["COMPLETED", "FAILED", "CANCELLED"]

    func settled(_ id: String, within timeout: Duration = .seconds(90)) async throws -> Order {
        let deadline = ContinuousClock.now + timeout
        while true {
            let order = try await order(id)
            if Self.terminal.contains(order.status) { return order }
            guard ContinuousClock.now < deadline else {
                Issue.record("order \(id) still \(order.status) after \(timeout)")
                return order
            }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    // MARK: Ledger, stock, notifications

    struct Ledger: Decodable {
        struct Charge: Decodable {
            var chargeId: String
            var orderId: String
            var amountCents: Int
            var status: String
        }
        struct Refund: Decodable {
            var refundId: String
            var chargeId: String
            var amountCents: Int
        }
        var charges: [Charge]
        var refunds: [Refund]

        var successfulCharges: [Charge] { charges.filter { $0.status == "succeeded" } }
    }

    func ledger(_ orderID: String) async throws -> Ledger {
        try Checkout.decoder.decode(
            Ledger.self, from: try await system.request(.GET, service: "gateway-sim", path: "/v1/ledger?order_id=\(orderID)").body)
    }

    struct Stock: Decodable, Equatable {
        var sku: String
        var available: Int
        var reserved: Int
    }

    func stock(_ sku: String) async throws -> Stock? {
        let response = try await system.request(.GET, service: "inventory-service", path: "/v1/stock/\(sku)")
        return response.status == 200 ? try Checkout.decoder.decode(Stock.self, from: response.body) : nil
    }

    /// The orders of a customer, once there is one and a second more has passed for any duplicate to
    /// arrive: what a caller of `GET /v1/orders?customer_id=` sees once the ingress has settled.
    func orders(ofCustomer customer: String) async throws -> [Order] {
        try await TestSupport.eventually { !((try? await listedOrders(ofCustomer: customer)) ?? []).isEmpty }
        try await Task.sleep(for: .seconds(1))
        return try await listedOrders(ofCustomer: customer)
    }

    private struct Listing: Decodable { var orders: [Order] }

    private func listedOrders(ofCustomer customer: String) async throws -> [Order] {
        let response = try await system.request(.GET, path: "/v1/orders?customer_id=\(customer)")
        return try Checkout.decoder.decode(Listing.self, from: response.body).orders
    }

    /// Publishes `stock.adjusted` on the ingress exchange, as another system would.
    func adjust(_ sku: String, by delta: Int, eventID: String = UUID().uuidString) async throws {
        let event = try CloudEvent(
            id: eventID, source: "/tests/warehouse", type: EventType.stockAdjusted.rawValue, subject: sku,
            payload: StockAdjusted(sku: sku, delta: delta, reason: "delivery"))
        try await publish(event.amqpMessage(), routingKey: event.type)
    }

    /// Sets up stock for a fresh SKU and waits until inventory shows it.
    func stocked(_ units: Int, prefix: String = "SKU") async throws -> String {
        let sku = "\(prefix)-\(UUID().uuidString.prefix(8))"
        try await adjust(sku, by: units)
        try await TestSupport.eventually { try await stock(sku)?.available == units }
        return sku
    }

    func publish(_ message: AMQPMessage, routingKey: String) async throws {
        try await withBroker { try await $0.publish(message, exchange: Exchange.ingress, routingKey: routingKey) }
    }

    /// How many customer notifications were recorded for an order.
    func notifications(_ orderID: String) async throws -> Int {
        try await withDatabase { pool in
            try await pool.query("SELECT count(*) FROM notifications.notifications WHERE order_id = \(orderID)")[0].decode(Int.self, 0)
        }
    }

    /// Runs `body` with a pool on the system's own database.
    func withDatabase<T>(_ body: (PostgresPool) async throws -> T) async throws -> T {
        var configuration = try PostgresConfiguration(url: system.databaseURL)
        configuration.applicationName = "e2e-checks"
        let pool = PostgresPool(configuration: configuration, size: 1, logger: TestEnvironment.logger("e2e"))
        do {
            let result = try await body(pool)
            await pool.close()
            return result
        } catch {
            await pool.close()
            throw error
        }
    }

    /// Runs `body` with a connection to the system's virtual host, as a plain AMQP client of another system.
    func withBroker<T>(_ body: (AMQPConnection) async throws -> T) async throws -> T {
        try await AMQPConnection.withConnection(
            configuration: try AMQPConfiguration(url: system.amqpURL), logger: TestEnvironment.logger("e2e"), body
        )
    }

    /// The parking reasons of the messages with these ids, once all of them are parked in `queue`; other
    /// tests' messages may be parked there too. The messages are left in the queue.
    func parkedReasons(in queue: String, for ids: Set<String>, within timeout: Duration = .seconds(30)) async throws -> [String: String] {
        var reasons: [String: String] = [:]
        try await eventually(within: timeout, "\(ids) parked in \(queue)") {
            let depth = Int(try await queueDepth(queue))
            reasons = try await withBroker { connection in
                // Read and handed back: the connection closes with them unsettled.
                try await connection.consume(queue: queue, prefetch: UInt16(clamping: max(depth, 1))).collect(depth, within: .seconds(5))
                    .reduce(into: [String: String]()) { reasons, delivery in
                        guard let id = delivery.properties.messageID, ids.contains(id) else { return }
                        reasons[id] = delivery.properties.headers[MessageHeaders.parkedReason]?.stringValue ?? ""
                    }
            }
            return Set(reasons.keys) == ids
        }
        return reasons
    }

    /// Messages waiting in a queue of the system's virtual host.
    func queueDepth(_ queue: String) async throws -> UInt32 {
        try await withBroker { try await $0.status(ofQueue: queue).messageCount }
    }
}
