import Foundation
import Payment
import Testing

@Suite("payment rules")
struct PaymentDecisionsTests {
    static func json(_ text: String) -> Data { Data(text.utf8) }

    @Test func gatewayAnswersToAChargeMeanWhatTheContractSays() {
        #expect(ChargeOutcome(.response(status: 201, body: Self.json(#"{"charge_id":"ch_1","status":"succeeded"}"#))) == .charged(chargeID: "ch_1"))
        #expect(
            ChargeOutcome(.response(status: 402, body: Self.json(#"{"code":"card_declined","detail":"no funds","charge_id":"ch_2"}"#)))
                == .declined(chargeID: "ch_2", reason: "card_declined: no funds")
        )
        #expect(ChargeOutcome(.response(status: 503, body: Self.json(#"{"detail":"busy"}"#))) == .transient(reason: "gateway answered 503: busy"))
        #expect(ChargeOutcome(.response(status: 429, body: Data())).label == "transient")
        #expect(ChargeOutcome(.unreachable(reason: "connection refused")) == .transient(reason: "gateway unreachable: connection refused"))
        #expect(
            ChargeOutcome(.response(status: 422, body: Self.json(#"{"detail":"unknown card token 'x'"}"#)))
                == .rejected(reason: "gateway answered 422: unknown card token 'x'")
        )
        #expect(ChargeOutcome(.response(status: 201, body: Self.json("{}"))).label == "rejected")
    }

    @Test func gatewayAnswersToARefundMeanWhatTheContractSays() {
        #expect(RefundOutcome(.response(status: 201, body: Self.json(#"{"refund_id":"re_1"}"#))) == .refunded(refundID: "re_1"))
        #expect(RefundOutcome(.response(status: 500, body: Data())).label == "transient")
        #expect(RefundOutcome(.unreachable(reason: "timeout")).label == "transient")
        #expect(
            RefundOutcome(.response(status: 404, body: Self.json(#"{"detail":"no charge"}"#))) == .rejected(reason: "gateway answered 404: no charge")
        )
    }

    static let charged = OrderPaymentState.Charge(chargeID: "ch_1", status: .succeeded, amountCents: 2500, currency: "EUR")

    @Test func anOrderIsChargedOnceAndNeverAfterItsCancellation() {
        #expect(PaymentDecisions.beforeCharge(OrderPaymentState(), totalCents: 2500, mayHaveRunBefore: false) == .charge)
        #expect(PaymentDecisions.beforeCharge(OrderPaymentState(charge: Self.charged), totalCents: 2500, mayHaveRunBefore: false) == .skipDecided)
        #expect(PaymentDecisions.beforeCharge(OrderPaymentState(cancelled: true), totalCents: 2500, mayHaveRunBefore: false) == .skipCancelled)
        // A retry or a redelivery may follow a handling the gateway charged without our knowing: the same
        // key finds that charge, so that it is refunded.
        #expect(PaymentDecisions.beforeCharge(OrderPaymentState(cancelled: true), totalCents: 2500, mayHaveRunBefore: true) == .charge)
    }

    @Test func anOrderWithNothingToChargeFailsWithoutTheGateway() {
        let decision = PaymentDecisions.beforeCharge(OrderPaymentState(), totalCents: 0, mayHaveRunBefore: false)
        guard case .failWithoutCharge(let reason) = decision else {
            Issue.record("expected a failure without a charge, got \(decision)")
            return
        }
        #expect(reason.hasPrefix("invalid_amount"))
    }

    @Test func whatTheChargeOutcomeLeadsTo() {
        let open = OrderPaymentState()
        #expect(PaymentDecisions.afterCharge(.charged(chargeID: "ch_1"), state: open) == .recordAndEmitSucceeded(chargeID: "ch_1"))
        #expect(PaymentDecisions.afterCharge(.charged(chargeID: "ch_1"), state: .init(cancelled: true)) == .recordAndRefund(chargeID: "ch_1"))
        #expect(
            PaymentDecisions.afterCharge(.declined(chargeID: nil, reason: "card_declined"), state: open)
                == .recordAndEmitFailed(chargeID: nil, reason: "card_declined")
        )
        #expect(PaymentDecisions.afterCharge(.transient(reason: "503"), state: open) == .retry(reason: "503"))
        #expect(PaymentDecisions.afterCharge(.rejected(reason: "422"), state: open) == .reject(reason: "422"))
        #expect(PaymentDecisions.afterCharge(.charged(chargeID: "ch_1"), state: .init(charge: Self.charged)) == .alreadyRecorded)
    }

    @Test func aChargeIsRefundedOnceInFull() {
        #expect(PaymentDecisions.refund(OrderPaymentState(charge: Self.charged)) == .refund(chargeID: "ch_1", amountCents: 2500, currency: "EUR"))
        #expect(PaymentDecisions.refund(OrderPaymentState(charge: Self.charged, refundID: "re_1")) == .alreadyRefunded)
        #expect(PaymentDecisions.refund(OrderPaymentState()) == .nothingCharged)
        let declined = OrderPaymentState.Charge(chargeID: "ch_2", status: .declined, amountCents: 2500, currency: "EUR")
        #expect(PaymentDecisions.refund(OrderPaymentState(charge: declined)) == .nothingCharged)
    }

    @Test func idempotencyKeysAreDerivedFromTheOrderAndTheCharge() {
        #expect(PaymentDecisions.chargeKey(orderID: "o-1") == "charge:o-1")
        #expect(PaymentDecisions.refundKey(chargeID: "ch_1") == "refund:ch_1")
    }
}
