import Chaos
import Testing

/// The checker finds every kind of broken promise it is meant to find, and nothing in a clean run.
@Suite("Invariant checker")
struct InvariantCheckerTests {
    /// Three orders — completed, cancelled after payment, failed — and a clean world around them.
    static let plan: ChaosPlan = {
        var plan = ChaosPlan.make(orders: 3, rate: 10, extraFaults: 0, seed: 1, run: "t")
        plan.orders = [
            .init(index: 0, kind: .ok, channel: .http, token: "tok_ok", sku: "A", quantity: 2, unitPriceCents: 500, at: .zero),
            .init(index: 1, kind: .stockOut, channel: .http, token: "tok_ok", sku: "S", quantity: 3, unitPriceCents: 100, at: .zero),
            .init(index: 2, kind: .declined, channel: .ingress, token: "tok_decline", sku: "A", quantity: 1, unitPriceCents: 700, at: .zero),
        ]
        plan.plentifulSKUs = ["A": 10]
        plan.scarceSKU = "S"
        plan.scarceStock = 1
        plan.restocks = [1]
        return plan
    }()

    static let clean = SystemFacts(
        ordersByPlan: [
            0: [.init(id: "o0", status: "COMPLETED", totalCents: 1000, lines: [.init(sku: "A", quantity: 2)])],
            1: [.init(id: "o1", status: "CANCELLED", totalCents: 300, lines: [.init(sku: "S", quantity: 3)])],
            2: [.init(id: "o2", status: "FAILED", totalCents: 700, lines: [.init(sku: "A", quantity: 1)])],
        ],
        charges: [
            .init(chargeID: "c0", orderID: "o0", amountCents: 1000, succeeded: true),
            .init(chargeID: "c1", orderID: "o1", amountCents: 300, succeeded: true),
            .init(chargeID: "c2", orderID: "o2", amountCents: 700, succeeded: false),
        ],
        refunds: [.init(chargeID: "c1", amountCents: 300)],
        stock: ["A": .init(available: 8, reserved: 2), "S": .init(available: 2, reserved: 0)],
        notifications: ["o0": 1, "o1": 1, "o2": 1], notificationEvents: ["o0": 1, "o1": 1, "o2": 1],
        parked: ["payment.dead": [.init(messageID: "p1", reason: "the body is not JSON"), .init(messageID: "p1", reason: "the body is not JSON")]],
        accepted: [0: ["o0"], 1: ["o1"]], backlog: [:])

    static func violations(_ change: (inout SystemFacts) -> Void) -> [String] {
        var facts = clean
        change(&facts)
        return InvariantChecker.check(plan: plan, poison: ["payment.dead": ["p1"]], facts: facts).map(\.invariant)
    }

    @Test func aCleanRunHasNoViolationsEvenWithAPoisonMessageParkedTwice() {
        #expect(Self.violations { _ in }.isEmpty)
    }

    @Test func anOrderThatNeverEnds() {
        #expect(Self.violations { $0.ordersByPlan[0]![0].status = "PAID" }.contains("1 terminal"))
    }

    @Test func aCompletedOrderChargedTwiceOrRefunded() {
        #expect(Self.violations { $0.charges.append(.init(chargeID: "c0b", orderID: "o0", amountCents: 1000, succeeded: true)) } == ["2 completed"])
        #expect(Self.violations { $0.refunds.append(.init(chargeID: "c0", amountCents: 1000)) } == ["2 completed"])
        #expect(Self.violations { $0.charges[0].amountCents = 999 } == ["2 completed"])
    }

    @Test func aCancelledOrderWithoutItsRefund() {
        #expect(Self.violations { $0.refunds = [] } == ["3 cancelled"])
        #expect(Self.violations { $0.refunds[0].amountCents = 100 } == ["3 cancelled"])
    }

    @Test func aFailedOrderThatWasCharged() {
        #expect(Self.violations { $0.charges[2].succeeded = true } == ["4 failed"])
    }

    @Test func stockThatDoesNotAddUpOrIsHeldForTheWrongOrders() {
        #expect(Self.violations { $0.stock["A"] = .init(available: 7, reserved: 2) } == ["5 stock"])
        #expect(Self.violations { $0.stock["S"] = .init(available: 0, reserved: 2) } == ["5 stock"])
        #expect(Self.violations { $0.stock["A"] = nil } == ["5 stock"])
    }

    @Test func aMissingOrDoubleNotification() {
        #expect(Self.violations { $0.notifications["o1"] = 2 } == ["6 one notification"])
        #expect(Self.violations { $0.notificationEvents["o2"] = nil } == ["6 one notification"])
    }

    @Test func somethingLeftBehindOrParkedThatWasNotPoison() {
        #expect(Self.violations { $0.backlog = ["queue payment.retry.30s": 1] } == ["7 nothing lost"])
        #expect(Self.violations { $0.parked["order.dead"] = [.init(messageID: "real-event", reason: "gave up")] } == ["7 nothing lost"])
        #expect(Self.violations { $0.parked = [:] } == ["9 hostile input"])
        #expect(Self.violations { $0.parked["payment.dead"] = [.init(messageID: "p1", reason: nil)] } == ["9 hostile input"])
        #expect(Self.violations { $0.ordersByPlan[2] = [] } == ["7 nothing lost"])
    }

    @Test func oneKeyThatMadeTwoOrders() {
        #expect(
            Self.violations {
                $0.ordersByPlan[0]!.append(.init(id: "o0b", status: "FAILED", totalCents: 1000, lines: [.init(sku: "A", quantity: 2)]))
                $0.notifications["o0b"] = 1
                $0.notificationEvents["o0b"] = 1
            } == ["8 one order per key"])
        // The intake answered with an order that was never stored: two answers for one key, and one lost.
        #expect(Self.violations { $0.accepted[0] = ["o0", "o-other"] } == ["8 one order per key", "7 nothing lost"])
    }

    @Test func moneyForAnOrderNobodyPlaced() {
        #expect(Self.violations { $0.charges.append(.init(chargeID: "cx", orderID: "ghost", amountCents: 5, succeeded: true)) } == ["2 charges"])
    }
}
