import Foundation
import TestSupport
import Testing

/// Orders that cannot finish in time: cancelled at the saga deadline, and refunded if they were charged.
@Suite("EndToEnd deadline", .runningSystem(sagaDeadline: .seconds(10)), .timeLimit(.minutes(3)))
struct DeadlineEndToEndTests {
    @Test func aPaymentSlowerThanTheDeadlineEndsCancelledAndNeverCharged() async throws {
        let checkout = try Checkout()
        let sku = try await checkout.stocked(1)
        let id = try await checkout.place(sku: sku, quantity: 1, price: 1500, token: "tok_slow")
        let order = try await checkout.settled(id, within: .seconds(60))
        #expect(order.status == "CANCELLED")
        #expect(order.failureReason == "deadline exceeded")
        // The slow charge may still land at the gateway after the deadline: then it must be refunded.
        try await eventually(within: .seconds(90)) {
            let ledger = try await checkout.ledger(id)
            return !ledger.successfulCharges.isEmpty && ledger.refunds.map(\.amountCents) == ledger.successfulCharges.map(\.amountCents)
        }
        #expect(try await checkout.stock(sku) == Checkout.Stock(sku: sku, available: 1, reserved: 0))
        try await eventually { try await checkout.notifications(id) == 1 }
        #expect(try await checkout.settled(id).status == "CANCELLED")
    }
}
