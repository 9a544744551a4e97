import AMQP
import Contracts
import Foundation
import LocalRun
import Logging
import Messaging
import Synchronization

/// Places a plan's orders at their times, through the HTTP intake and the ingress exchange, as
/// customers and other systems would: a request that fails (a service killed, the database away) is
/// sent again with the same `Idempotency-Key` until it is accepted.
final class LoadDriver: Sendable {
    let plan: ChaosPlan
    let run: String
    let system: LocalSystem
    let logger: Logger
    /// How long one order may keep failing before the driver gives up on it.
    let acceptTimeout: Duration
    private let accepted = Mutex<[Int: Set<String>]>([:])
    private let unresolved = Mutex<Set<Int>>([])
    private let nextInstance = Atomic<Int>(0)

    init(plan: ChaosPlan, run: String, system: LocalSystem, acceptTimeout: Duration = .seconds(240), logger: Logger) {
        self.plan = plan
        self.run = run
        self.system = system
        self.acceptTimeout = acceptTimeout
        self.logger = logger
    }

    /// The orders the intake answered for each planned order.
    var acceptedOrders: [Int: Set<String>] { accepted.withLock { $0 } }
    /// Planned orders that were never accepted within the time allowed.
    var gaveUp: Set<Int> { unresolved.withLock { $0 } }

    static func customer(run: String, index: Int) -> String { "chaos-\(run)-\(index)" }

    /// Puts the initial stock on every SKU and waits until inventory shows it.
    func stock(on connection: AMQPConnection) async throws {
        for (sku, units) in plan.plentifulSKUs.sorted(by: { $0.key < $1.key }) + [(plan.scarceSKU, plan.scarceStock)] {
            try await adjust(sku, by: units, id: "chaos-\(run)-stock-\(sku)", on: connection)
        }
        let inventory = LocalSystem.Instance(SystemCatalog.inventory.name)
        for sku in plan.stockTotals.keys {
            let deadline = ContinuousClock.now + .seconds(60)
            while try await system.request(.GET, to: inventory, path: "/v1/stock/\(sku)").status != 200 {
                guard ContinuousClock.now < deadline else { throw ChaosError("inventory never showed the stock of \(sku)") }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    /// Places every order at its time, and the restocks of the scarce SKU along the way; returns when all are placed.
    func place(on connection: AMQPConnection) async {
        let start = ContinuousClock.now
        await withDiscardingTaskGroup { group in
            for (number, units) in plan.restocks.enumerated() {
                group.addTask {
                    try? await Task.sleep(until: start + self.plan.duration * (Double(number + 1) / Double(self.plan.restocks.count + 1)))
                    let id = "chaos-\(self.run)-restock-\(number)"
                    try? await self.adjust(self.plan.scarceSKU, by: units, id: id, on: connection)
                    // The first restock is published twice: the same event id must count once.
                    if number == 0 { try? await self.adjust(self.plan.scarceSKU, by: units, id: id, on: connection) }
                }
            }
            for order in plan.orders {
                group.addTask {
                    try? await Task.sleep(until: start + order.at)
                    switch order.channel {
                    case .http: await self.post(order)
                    case .ingress: await self.request(order, on: connection)
                    }
                }
            }
        }
    }

    // MARK: HTTP

    func body(of order: ChaosPlan.Order) -> String {
        """
        {"customer":{"id":"\(Self.customer(run: run, index: order.index))","email":"chaos-\(order.index)@example.com"},"currency":"EUR",\
        "items":[{"sku":"\(order.sku)","quantity":\(order.quantity),"unit_price_cents":\(order.unitPriceCents)}],\
        "payment":{"token":"\(order.token)"}}
        """
    }

    private func post(_ order: ChaosPlan.Order) async {
        let key = "chaos-\(run)-\(order.index)"
        guard let id = await postUntilAccepted(order, key: key) else { return }
        record(order.index, id)
        if order.sentTwice, let again = await postUntilAccepted(order, key: key) { record(order.index, again) }
    }

    /// Sends the request until it is answered 202, round-robin over the order-service instances; the id, or `nil` after the timeout.
    private func postUntilAccepted(_ order: ChaosPlan.Order, key: String) async -> String? {
        let instances = system.instances(of: SystemCatalog.order.name)
        let deadline = ContinuousClock.now + acceptTimeout
        var lastFailure = "never sent"
        while ContinuousClock.now < deadline {
            let instance = instances[nextInstance.add(1, ordering: .relaxed).newValue % instances.count]
            do {
                let response = try await system.request(
                    .POST, to: instance, path: "/v1/orders", body: body(of: order),
                    headers: [("Content-Type", "application/json"), ("Idempotency-Key", key)], timeout: .seconds(15))
                if response.status == 202, let id = Self.orderID(in: response.body) { return id }
                lastFailure = "\(response.status): \(String(decoding: response.body.prefix(300), as: UTF8.self))"
                // A 4xx other than overload will not change: it is a finding, not a reason to wait.
                if (400..<500).contains(response.status) && response.status != 429 { break }
            } catch {
                lastFailure = "\(error)"
            }
            try? await Task.sleep(for: .milliseconds(500))
        }
        logger.warning("order not accepted", metadata: ["chaos.order": "\(order.index)", "error": "\(lastFailure)"])
        unresolved.withLock { _ = $0.insert(order.index) }
        return nil
    }

    static func orderID(in body: Data) -> String? {
        struct Accepted: Decodable { var id: String }
        return try? JSONDecoder().decode(Accepted.self, from: body).id
    }

    private func record(_ index: Int, _ id: String) {
        accepted.withLock { _ = $0[index, default: []].insert(id) }
    }

    // MARK: Ingress

    private func request(_ order: ChaosPlan.Order, on connection: AMQPConnection) async {
        let json = Data(body(of: order).utf8)
        let event = CloudEvent(
            id: "chaos-\(run)-ingress-\(order.index)", source: "/chaos/marketplace", type: EventType.orderRequested.rawValue,
            subject: Self.customer(run: run, index: order.index), data: json)
        for _ in 0..<(order.sentTwice ? 2 : 1) {
            await publishUntilConfirmed(event.amqpMessage(), exchange: Exchange.ingress, routingKey: event.type, on: connection)
        }
    }

    private func adjust(_ sku: String, by delta: Int, id: String, on connection: AMQPConnection) async throws {
        let event = try CloudEvent(
            id: id, source: "/chaos/warehouse", type: EventType.stockAdjusted.rawValue, subject: sku,
            payload: StockAdjusted(sku: sku, delta: delta, reason: "chaos"))
        await publishUntilConfirmed(event.amqpMessage(), exchange: Exchange.ingress, routingKey: event.type, on: connection)
    }

    /// Publishes until the broker confirms, riding out broker restarts.
    func publishUntilConfirmed(_ message: AMQPMessage, exchange: String, routingKey: String, on connection: AMQPConnection) async {
        let deadline = ContinuousClock.now + acceptTimeout
        while ContinuousClock.now < deadline {
            do {
                try await connection.publish(message, exchange: exchange, routingKey: routingKey)
                return
            } catch {
                logger.debug("publish failed; sending again", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
        logger.warning("gave up publishing", metadata: ["amqp.exchange": "\(exchange)", "amqp.routing_key": "\(routingKey)"])
    }
}

/// A fault run could not be carried out.
package struct ChaosError: Error, CustomStringConvertible {
    package var description: String

    package init(_ description: String) { self.description = description }
}
