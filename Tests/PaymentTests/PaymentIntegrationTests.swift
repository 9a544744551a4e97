import Contracts
import Foundation
import GatewaySim
import Messaging
import Payment
import Telemetry
import TestSupport
import Testing

/// payment-service against the real broker, the real database and a real gateway-sim over HTTP.
@Suite("payment-service, end to end through its queue and the gateway", .timeLimit(.minutes(1)))
struct PaymentIntegrationTests {
    @Test func aPlacedOrderIsChargedOnceAndPaymentSucceededIsEmitted() async throws {
        let harness = try await PaymentHarness.make()
        try await harness.running {
            try await harness.orderPlaced("o-ok")
            try await eventually { try await !harness.emitted("o-ok").isEmpty }
        }
        let ledger = try await harness.ledger("o-ok")
        #expect(ledger.charges.count == 1)
        let charge = try #require(ledger.succeededCharges.first)
        #expect(charge.amountCents == 2500)
        #expect(charge.currency == "EUR")
        let events = try await harness.emitted("o-ok")
        #expect(events.map(\.type) == [EventType.paymentSucceeded.rawValue])
        let event = try #require(events.first)
        let succeeded = try event.decodeData(as: PaymentSucceeded.self)
        #expect(succeeded.paymentID == charge.chargeID)
        #expect(succeeded.amountCents == 2500)
        #expect(succeeded.items == PaymentHarness.placed("o-ok", token: "tok_ok").items)
        #expect(event.source == "/orderly/payment-service")
        #expect(event.subject == "o-ok")
        #expect(event.traceparent.flatMap { TraceParent($0) }?.traceIDText == TraceParent(PaymentHarness.traceparent)?.traceIDText)
        #expect(event.traceparent != PaymentHarness.traceparent)
        try await harness.tearDown()
    }

    @Test func aDeclinedCardEmitsPaymentFailedAndTakesNoMoney() async throws {
        let harness = try await PaymentHarness.make()
        try await harness.running {
            try await harness.orderPlaced("o-decline", token: "tok_decline")
            try await eventually { try await !harness.emitted("o-decline").isEmpty }
        }
        #expect(try await harness.ledger("o-decline").succeededCharges.isEmpty)
        let events = try await harness.emitted("o-decline")
        #expect(events.map(\.type) == [EventType.paymentFailed.rawValue])
        #expect(try events[0].decodeData(as: PaymentFailed.self).reason.contains("card_declined"))
        #expect(try await harness.parked() == 0)
        try await harness.tearDown()
    }

    @Test func aFlakyGatewayIsRetriedThroughTheTiersAndChargesOnce() async throws {
        let harness = try await PaymentHarness.make()
        try await harness.running {
            try await harness.orderPlaced("o-flaky", token: "tok_flaky")
            try await eventually { try await !harness.emitted("o-flaky").isEmpty }
        }
        let ledger = try await harness.ledger("o-flaky")
        #expect(ledger.charges.count == 1)
        #expect(ledger.succeededCharges.count == 1)
        #expect(try await harness.emitted("o-flaky").map(\.type) == [EventType.paymentSucceeded.rawValue])
        try await harness.tearDown()
    }

    @Test func aGatewayTimeoutIsRetriedAndChargesOnce() async throws {
        // The gateway answers after 4 s, the service waits 3 s: the first attempts time out, and a
        // later one finds the charge the first one made, under the same idempotency key. That replay must
        // answer within the service's wait, so the wait is one a busy machine does not reach.
        let harness = try await PaymentHarness.make(gatewayTimeout: .seconds(3), slowDelay: .seconds(4))
        try await harness.running {
            try await harness.orderPlaced("o-slow", token: "tok_slow")
            try await eventually(within: .seconds(30)) { try await !harness.emitted("o-slow").isEmpty }
        }
        #expect(try await harness.ledger("o-slow").succeededCharges.count == 1)
        #expect(try await harness.emitted("o-slow").map(\.type) == [EventType.paymentSucceeded.rawValue])
        try await harness.tearDown()
    }

    @Test func aDuplicatedOrderPlacedStillChargesOnce() async throws {
        let harness = try await PaymentHarness.make()
        let sameID = UUID().uuidString
        try await harness.running {
            // Two copies of one event, and two distinct events for the same order, all at once.
            try await harness.orderPlaced("o-dup", id: sameID)
            try await harness.orderPlaced("o-dup", id: sameID)
            let other = UUID().uuidString
            try await harness.orderPlaced("o-dup", id: other)
            try await eventually { try await harness.handled(sameID, other) }
        }
        let ledger = try await harness.ledger("o-dup")
        #expect(ledger.charges.count == 1)
        #expect(try await harness.emitted("o-dup").map(\.type) == [EventType.paymentSucceeded.rawValue])
        try await harness.tearDown()
    }

    @Test func aRefundRequestedTwiceRefundsOnceInFull() async throws {
        let harness = try await PaymentHarness.make()
        try await harness.running {
            try await harness.orderPlaced("o-refund")
            try await eventually { try await !harness.emitted("o-refund").isEmpty }
            let paymentID = try await harness.ledger("o-refund").charges[0].chargeID
            let first = UUID().uuidString
            let second = UUID().uuidString
            try await harness.refundRequested("o-refund", paymentID: paymentID, id: first)
            try await harness.refundRequested("o-refund", paymentID: paymentID, id: second)
            try await eventually { try await harness.handled(first, second) }
        }
        let ledger = try await harness.ledger("o-refund")
        #expect(ledger.succeededCharges.count == 1)
        #expect(ledger.refunds.count == 1)
        #expect(ledger.refunds.first?.amountCents == 2500)
        #expect(ledger.refunds.first?.chargeID == ledger.charges.first?.chargeID)
        let events = try await harness.emitted("o-refund")
        #expect(events.map(\.type) == [EventType.paymentSucceeded.rawValue, EventType.paymentRefunded.rawValue])
        let refunded = try events[1].decodeData(as: PaymentRefunded.self)
        #expect(refunded.refundID == ledger.refunds.first?.refundID)
        #expect(refunded.amountCents == 2500)
        try await harness.tearDown()
    }

    @Test func aCancellationBeforeThePlacedOrderMeansNoCharge() async throws {
        let harness = try await PaymentHarness.make()
        try await harness.running {
            let cancelled = UUID().uuidString
            try await harness.orderCancelled("o-cancel-first", id: cancelled)
            try await eventually { try await harness.handled(cancelled) }
            let placed = UUID().uuidString
            try await harness.orderPlaced("o-cancel-first", id: placed)
            try await eventually { try await harness.handled(placed) }
        }
        #expect(try await harness.ledger("o-cancel-first").charges.isEmpty)
        #expect(try await harness.emitted("o-cancel-first").isEmpty)
        try await harness.tearDown()
    }

    @Test func aCancellationAfterTheChargeRefundsIt() async throws {
        let harness = try await PaymentHarness.make()
        try await harness.running {
            try await harness.orderPlaced("o-cancel-late")
            try await eventually { try await !harness.emitted("o-cancel-late").isEmpty }
            let first = UUID().uuidString
            let second = UUID().uuidString
            try await harness.orderCancelled("o-cancel-late", id: first)
            try await harness.orderCancelled("o-cancel-late", id: second)
            try await eventually { try await harness.handled(first, second) }
        }
        let ledger = try await harness.ledger("o-cancel-late")
        #expect(ledger.succeededCharges.count == 1)
        #expect(ledger.refunds.map(\.amountCents) == [2500])
        #expect(
            try await harness.emitted("o-cancel-late").map(\.type) == [EventType.paymentSucceeded.rawValue, EventType.paymentRefunded.rawValue]
        )
        try await harness.tearDown()
    }

    @Test func aCancellationWhileTheChargeIsInFlightRefundsAtOnce() async throws {
        // The gateway takes 1.5 s to charge; the cancellation is delivered meanwhile.
        let harness = try await PaymentHarness.make(slowDelay: .milliseconds(1500))
        try await harness.running {
            let placed = UUID().uuidString
            try await harness.orderPlaced("o-in-flight", token: "tok_slow", id: placed)
            try await Task.sleep(for: .milliseconds(300))
            let cancelled = UUID().uuidString
            try await harness.orderCancelled("o-in-flight", id: cancelled)
            try await eventually { try await harness.handled(placed, cancelled) }
        }
        let ledger = try await harness.ledger("o-in-flight")
        #expect(ledger.succeededCharges.count == 1)
        #expect(ledger.refunds.map(\.amountCents) == [2500])
        // One instance handles one order's events in delivery order, so here the cancellation waits for
        // the charge and refunds it; with several instances it can land mid-charge and the charge is
        // refunded at once, without payment.succeeded. Either way: one charge, one refund, refunded last.
        let emitted = try await harness.emitted("o-in-flight").map(\.type)
        #expect(emitted.last == EventType.paymentRefunded.rawValue)
        #expect(emitted.filter { $0 == EventType.paymentRefunded.rawValue }.count == 1)
        try await harness.tearDown()
    }

    @Test func aRedeliveryAfterACrashBetweenChargeAndCommitRefundsACancelledOrder() async throws {
        // The crash: a payment-service instance charged the order at the gateway and died before its
        // commit. Meanwhile the order was cancelled. The broker then redelivers order.placed (first
        // attempt, `redelivered` set): the charge must be found with the same key and refunded.
        let harness = try await PaymentHarness.make()
        let order = "o-redelivered"
        try await harness.running {
            let cancelled = UUID().uuidString
            try await harness.orderCancelled(order, id: cancelled)
            try await eventually { try await harness.handled(cancelled) }
        }
        try await harness.chargeAtTheGateway(order)
        #expect(try await harness.ledger(order).succeededCharges.count == 1)
        try await harness.orderPlaced(order)
        try await harness.takeAndDropOneDelivery()
        try await harness.running {
            // Until the refund is committed, not just made at the gateway: stopping cancels what is in flight.
            try await eventually("the refund recorded") { try await !harness.emitted(order).isEmpty }
        }
        let ledger = try await harness.ledger(order)
        #expect(ledger.succeededCharges.count == 1)
        #expect(ledger.refunds.map(\.amountCents) == [2500])
        #expect(try await harness.emitted(order).map(\.type) == [EventType.paymentRefunded.rawValue])
        try await harness.tearDown()
    }

    @Test func anOrderPlacedWithNothingToChargeFailsWithoutAskingTheGateway() async throws {
        let harness = try await PaymentHarness.make()
        let order = "o-free"
        try await harness.running {
            let free = OrderPlaced(
                orderID: order, customer: Customer(id: "c-1", email: "ada@example.com"), currency: "EUR",
                items: [OrderLine(sku: "SKU-1", quantity: 1, unitPriceCents: 0)], totalCents: 0, paymentToken: "tok_ok")
            try await harness.publish(.orderPlaced, subject: order, payload: free)
            try await eventually { try await !harness.emitted(order).isEmpty }
        }
        #expect(try await harness.ledger(order).charges.isEmpty)
        let events = try await harness.emitted(order)
        #expect(events.map(\.type) == [EventType.paymentFailed.rawValue])
        #expect(try events[0].decodeData(as: PaymentFailed.self).reason.hasPrefix("invalid_amount"))
        #expect(try await harness.parked() == 0)
        try await harness.tearDown()
    }
}
