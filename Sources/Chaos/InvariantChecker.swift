/// What the system looks like once a fault run is quiet: read through its public APIs, its ledger,
/// its databases and its queues.
package struct SystemFacts: Sendable, Hashable {
    package struct Order: Sendable, Hashable {
        package var id: String
        package var status: String
        package var totalCents: Int
        package var lines: [Line]

        package init(id: String, status: String, totalCents: Int, lines: [Line]) {
            self.id = id
            self.status = status
            self.totalCents = totalCents
            self.lines = lines
        }
    }

    package struct Line: Sendable, Hashable {
        package var sku: String
        package var quantity: Int

        package init(sku: String, quantity: Int) {
            self.sku = sku
            self.quantity = quantity
        }
    }

    package struct Charge: Sendable, Hashable {
        package var chargeID: String
        package var orderID: String
        package var amountCents: Int
        package var succeeded: Bool

        package init(chargeID: String, orderID: String, amountCents: Int, succeeded: Bool) {
            self.chargeID = chargeID
            self.orderID = orderID
            self.amountCents = amountCents
            self.succeeded = succeeded
        }
    }

    package struct Refund: Sendable, Hashable {
        package var chargeID: String
        package var amountCents: Int

        package init(chargeID: String, amountCents: Int) {
            self.chargeID = chargeID
            self.amountCents = amountCents
        }
    }

    package struct Stock: Sendable, Hashable {
        package var available: Int
        package var reserved: Int

        package init(available: Int, reserved: Int) {
            self.available = available
            self.reserved = reserved
        }
    }

    package struct ParkedMessage: Sendable, Hashable {
        package var messageID: String?
        package var reason: String?

        package init(messageID: String?, reason: String?) {
            self.messageID = messageID
            self.reason = reason
        }
    }

    /// Every order found, by the index of the planned order whose customer it belongs to.
    package var ordersByPlan: [Int: [Order]]
    package var charges: [Charge]
    package var refunds: [Refund]
    package var stock: [String: Stock]
    /// Customer notifications recorded, per order id.
    package var notifications: [String: Int]
    /// Distinct `notification.sent` events heard on `orderly.notifications`, per order id.
    package var notificationEvents: [String: Int]
    /// Every message in each parking queue.
    package var parked: [String: [ParkedMessage]]
    /// The orders the intake accepted (202) for a planned order, by plan index; replays answer again.
    package var accepted: [Int: Set<String>]
    /// Messages still waiting in work and retry queues, and outbox rows not yet published, per place.
    package var backlog: [String: Int]

    package init(
        ordersByPlan: [Int: [Order]], charges: [Charge], refunds: [Refund], stock: [String: Stock], notifications: [String: Int],
        notificationEvents: [String: Int], parked: [String: [ParkedMessage]], accepted: [Int: Set<String>], backlog: [String: Int]
    ) {
        self.ordersByPlan = ordersByPlan
        self.charges = charges
        self.refunds = refunds
        self.stock = stock
        self.notifications = notifications
        self.notificationEvents = notificationEvents
        self.parked = parked
        self.accepted = accepted
        self.backlog = backlog
    }
}

/// One broken invariant, in words.
package struct Violation: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The invariant's number in the design contract, and a short name.
    package var invariant: String
    package var detail: String

    package var description: String { "[\(invariant)] \(detail)" }
}

/// The invariants of the design contract, as a pure function of a plan, what was injected, and the facts.
package enum InvariantChecker {
    static let terminal: Set<String> = ["COMPLETED", "FAILED", "CANCELLED"]

    /// Every violation; empty when the run kept every promise.
    ///
    /// - Parameter poison: the message ids injected into each parking queue's service.
    package static func check(plan: ChaosPlan, poison: [String: Set<String>], facts: SystemFacts) -> [Violation] {
        var violations: [Violation] = []
        func fail(_ invariant: String, _ detail: String) { violations.append(Violation(invariant: invariant, detail: detail)) }

        let chargesByOrder = Dictionary(grouping: facts.charges, by: \.orderID)
        let refundsByCharge = Dictionary(grouping: facts.refunds, by: \.chargeID)
        var knownOrders: Set<String> = []
        var reservedBySKU: [String: Int] = [:]

        for planned in plan.orders {
            let found = facts.ordersByPlan[planned.index] ?? []
            // 8. One key (or one ingress event id) → one order; what the intake answered is that order.
            if found.count > 1 { fail("8 one order per key", "plan #\(planned.index) (\(planned.kind.rawValue)) made \(found.count) orders") }
            let accepted = facts.accepted[planned.index] ?? []
            if accepted.count > 1 { fail("8 one order per key", "plan #\(planned.index) was answered with \(accepted.count) different orders") }
            for id in accepted.sorted() where !found.contains(where: { $0.id == id }) {
                fail("7 nothing lost", "order \(id) was accepted for plan #\(planned.index) but is not found")
            }
            if planned.channel == .ingress, found.isEmpty { fail("7 nothing lost", "order.requested of plan #\(planned.index) made no order") }
            for order in found {
                knownOrders.insert(order.id)
                let charges = chargesByOrder[order.id] ?? []
                let succeeded = charges.filter(\.succeeded)
                let refunds = succeeded.flatMap { refundsByCharge[$0.chargeID] ?? [] }
                // 1. Every accepted order terminal.
                guard terminal.contains(order.status) else {
                    fail("1 terminal", "order \(order.id) is still \(order.status)")
                    continue
                }
                switch order.status {
                case "COMPLETED":
                    if succeeded.map(\.amountCents) != [order.totalCents] || !refunds.isEmpty {
                        fail("2 completed", "order \(order.id): charges \(succeeded.map(\.amountCents)), refunds \(refunds.map(\.amountCents))")
                    }
                    for line in order.lines { reservedBySKU[line.sku, default: 0] += line.quantity }
                case "CANCELLED":
                    if succeeded.count > 1 || refunds.map(\.amountCents) != succeeded.map(\.amountCents) {
                        fail("3 cancelled", "order \(order.id): charges \(succeeded.map(\.amountCents)), refunds \(refunds.map(\.amountCents))")
                    }
                default:
                    if !succeeded.isEmpty { fail("4 failed", "order \(order.id) failed but was charged \(succeeded.map(\.amountCents))") }
                }
                // 6. Exactly one customer notification, and one notification.sent for subscribers.
                if facts.notifications[order.id, default: 0] != 1 {
                    fail("6 one notification", "order \(order.id) has \(facts.notifications[order.id, default: 0]) notifications")
                }
                if facts.notificationEvents[order.id, default: 0] != 1 {
                    fail("6 one notification", "order \(order.id) was announced \(facts.notificationEvents[order.id, default: 0]) times")
                }
            }
        }
        // No money moves for an order nobody placed.
        for charge in facts.charges where charge.succeeded && !knownOrders.contains(charge.orderID) {
            fail("2 charges", "charge \(charge.chargeID) of \(charge.amountCents) for an unknown order \(charge.orderID)")
        }
        // 5. Stock conserved per SKU, never negative, reserved exactly for the completed orders.
        for (sku, total) in plan.stockTotals.sorted(by: { $0.key < $1.key }) {
            guard let stock = facts.stock[sku] else {
                fail("5 stock", "\(sku) is unknown to inventory")
                continue
            }
            if stock.available + stock.reserved != total || stock.available < 0 || stock.reserved < 0 {
                fail("5 stock", "\(sku): \(stock.available) available + \(stock.reserved) reserved ≠ \(total)")
            }
            if stock.reserved != reservedBySKU[sku, default: 0] {
                fail("5 stock", "\(sku): \(stock.reserved) reserved, but completed orders hold \(reservedBySKU[sku, default: 0])")
            }
        }
        // 7. Nothing lost: quiet queues and outboxes; the parking queues hold exactly the poison, each with a reason.
        // Parking is at least once (an instance killed between parking a copy and settling the original parks
        // it again on redelivery), so a poison message found twice is still only the poison.
        for (place, count) in facts.backlog.sorted(by: { $0.key < $1.key }) where count > 0 {
            fail("7 nothing lost", "\(place) still holds \(count) messages")
        }
        for queue in Set(poison.keys).union(facts.parked.keys).sorted() {
            let parked = facts.parked[queue] ?? []
            let expected = poison[queue] ?? []
            let ids = parked.compactMap(\.messageID)
            for message in parked where !expected.contains(message.messageID ?? "") {
                fail(
                    "7 nothing lost",
                    "\(queue) holds \(message.messageID ?? "a message without id") that was not poison: \(message.reason ?? "no reason")")
            }
            for id in expected.subtracting(ids).sorted() { fail("9 hostile input", "poison \(id) is not in \(queue)") }
            for message in parked where (message.reason ?? "").isEmpty {
                fail("9 hostile input", "\(message.messageID ?? "?") in \(queue) has no reason")
            }
        }
        return violations
    }
}
