import AMQP
import Contracts
import Foundation
import LocalRun
import Logging
import Messaging
import MessagingConventions
import Postgres

/// Reads what a fault run's system looks like: orders through the order API, money through the
/// gateway's ledger, stock through the stock API, notifications and outboxes in the database, and the
/// queues on the broker.
struct FactReader: Sendable {
    /// The contract's JSON is snake_case.
    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }()

    let plan: ChaosPlan
    let run: String
    let system: LocalSystem
    let logger: Logger

    /// Open orders and waiting messages, cheaply, to know when to read everything.
    func quiet() async throws -> (openOrders: Int, waiting: [String: Int]) {
        let open = try await system.withDatabase(logger: logger) { pool in
            try await pool.query(
                "SELECT count(*) FROM \(identifier: SystemCatalog.order.schema).orders WHERE status NOT IN ('COMPLETED', 'FAILED', 'CANCELLED')"
            )[0].decode(Int.self, 0)
        }
        return (open, try await backlog())
    }

    func read(accepted: [Int: Set<String>], announced: [String: Int]) async throws -> SystemFacts {
        let orders = try await ordersByPlan()
        let ledger = try await self.ledger()
        var stock: [String: SystemFacts.Stock] = [:]
        let inventory = LocalSystem.Instance(SystemCatalog.inventory.name)
        for sku in plan.stockTotals.keys {
            let response = try await system.request(.GET, to: inventory, path: "/v1/stock/\(sku)")
            guard response.status == 200 else { continue }
            struct Level: Decodable {
                var available: Int
                var reserved: Int
            }
            let level = try Self.decoder.decode(Level.self, from: response.body)
            stock[sku] = SystemFacts.Stock(available: level.available, reserved: level.reserved)
        }
        let notifications = try await system.withDatabase(logger: logger) { pool in
            try await pool.query("SELECT order_id, count(*) FROM \(identifier: SystemCatalog.notification.schema).notifications GROUP BY order_id")
                .reduce(into: [String: Int]()) { $0[try $1.decode(String.self, 0)] = try $1.decode(Int.self, 1) }
        }
        return SystemFacts(
            ordersByPlan: orders, charges: ledger.charges, refunds: ledger.refunds, stock: stock, notifications: notifications,
            notificationEvents: announced, parked: try await parked(), accepted: accepted, backlog: try await backlog())
    }

    /// Every order of every planned order's customer, read through `GET /v1/orders?customer_id=`.
    private func ordersByPlan() async throws -> [Int: [SystemFacts.Order]] {
        struct Listing: Decodable {
            struct Order: Decodable {
                struct Item: Decodable {
                    var sku: String
                    var quantity: Int
                }
                var id: String
                var status: String
                var totalCents: Int
                var items: [Item]
            }
            var orders: [Order]
        }
        let instances = system.instances(of: SystemCatalog.order.name)
        return try await withThrowingTaskGroup(of: (Int, [SystemFacts.Order]).self) { group in
            var result: [Int: [SystemFacts.Order]] = [:]
            for (position, order) in plan.orders.enumerated() {
                if position >= 16, let (index, found) = try await group.next() { result[index] = found }
                group.addTask {
                    let customer = LoadDriver.customer(run: run, index: order.index)
                    let response = try await system.request(
                        .GET, to: instances[order.index % instances.count], path: "/v1/orders?customer_id=\(customer)&limit=10")
                    guard response.status == 200 else { throw ChaosError("listing the orders of \(customer) answered \(response.status)") }
                    let listing = try Self.decoder.decode(Listing.self, from: response.body)
                    return (
                        order.index,
                        listing.orders.map { order in
                            SystemFacts.Order(
                                id: order.id, status: order.status, totalCents: order.totalCents,
                                lines: order.items.map { SystemFacts.Line(sku: $0.sku, quantity: $0.quantity) })
                        }
                    )
                }
            }
            for try await (index, found) in group { result[index] = found }
            return result
        }
    }

    private func ledger() async throws -> (charges: [SystemFacts.Charge], refunds: [SystemFacts.Refund]) {
        struct Ledger: Decodable {
            struct Charge: Decodable {
                var chargeId: String
                var orderId: String
                var amountCents: Int
                var status: String
            }
            struct Refund: Decodable {
                var chargeId: String
                var amountCents: Int
            }
            var charges: [Charge]
            var refunds: [Refund]
        }
        let response = try await system.request(.GET, to: LocalSystem.Instance(SystemCatalog.gatewaySim.name), path: "/v1/ledger")
        let ledger = try Self.decoder.decode(Ledger.self, from: response.body)
        return (
            ledger.charges.map {
                SystemFacts.Charge(chargeID: $0.chargeId, orderID: $0.orderId, amountCents: $0.amountCents, succeeded: $0.status == "succeeded")
            },
            ledger.refunds.map { SystemFacts.Refund(chargeID: $0.chargeId, amountCents: $0.amountCents) }
        )
    }

    /// Every parked message, read and handed back to its queue (the connection closes with them unsettled).
    private func parked() async throws -> [String: [SystemFacts.ParkedMessage]] {
        try await system.withBroker(logger: logger) { broker in
            var parked: [String: [SystemFacts.ParkedMessage]] = [:]
            for queues in Subscriptions.all {
                let depth = Int(try await broker.status(ofQueue: queues.parkingQueue).messageCount)
                guard depth > 0 else { continue }
                let consumer = try await broker.consume(queue: queues.parkingQueue, prefetch: UInt16(clamping: depth))
                parked[queues.parkingQueue] = try await consumer.collect(depth, within: .seconds(10)).map {
                    SystemFacts.ParkedMessage(
                        messageID: $0.properties.messageID, reason: $0.properties.headers[MessageHeaders.parkedReason]?.stringValue)
                }
            }
            return parked
        }
    }

    /// Messages in work and retry queues, and unpublished outbox rows, where there are any.
    private func backlog() async throws -> [String: Int] {
        var backlog: [String: Int] = [:]
        try await system.withBroker(logger: logger) { broker in
            for queue in Subscriptions.all.flatMap({ $0.topology.queues.map(\.name) }) where !queue.hasSuffix(".dead") {
                let depth = Int(try await broker.status(ofQueue: queue).messageCount)
                if depth > 0 { backlog["queue \(queue)"] = depth }
            }
        }
        try await system.withDatabase(logger: logger) { pool in
            for service in SystemCatalog.all where service.exchange != nil {
                let pending = try await Outbox(schema: service.schema).pendingCount(on: pool)
                if pending > 0 { backlog["outbox \(service.schema)"] = pending }
            }
        }
        return backlog
    }
}
