import GatewaySim
import Testing

@Suite("gateway-sim rules")
struct GatewayRulesTests {
    @Test func tokensMapToTheirBehaviour() {
        #expect(TokenBehavior(token: "tok_ok") == .approve)
        #expect(TokenBehavior(token: "tok_decline") == .decline)
        #expect(TokenBehavior(token: "tok_flaky") == .flaky)
        #expect(TokenBehavior(token: "tok_slow") == .slow)
        #expect(TokenBehavior(token: "tok_unknown") == nil)
        #expect(TokenBehavior.decline.approves == false)
        #expect(TokenBehavior.slow.approves)
    }

    @Test func flakyFailsTheFirstTwoAttemptsOnly() {
        #expect(TokenBehavior.flaky.failsTransiently(attempt: 1))
        #expect(TokenBehavior.flaky.failsTransiently(attempt: 2))
        #expect(!TokenBehavior.flaky.failsTransiently(attempt: 3))
        #expect(!TokenBehavior.approve.failsTransiently(attempt: 1))
    }

    @Test func aValidChargePasses() throws {
        let draft = ChargeRequest.Draft(amountCents: 2500, currency: "EUR", token: "tok_ok", idempotencyKey: "charge:o-1", orderID: "o-1")
        let request = try ChargeRequest.validate(draft).get()
        #expect(request == ChargeRequest(amountCents: 2500, currency: "EUR", token: "tok_ok", idempotencyKey: "charge:o-1", orderID: "o-1"))
    }

    @Test func everyInvalidChargeFieldIsNamed() {
        let draft = ChargeRequest.Draft(amountCents: 0, currency: "eur", token: "", idempotencyKey: nil, orderID: nil)
        guard case .failure(let invalid) = ChargeRequest.validate(draft) else {
            Issue.record("an invalid charge passed")
            return
        }
        #expect(Set(invalid.errors.map(\.field)) == ["amount_cents", "currency", "token", "idempotency_key", "order_id"])
    }

    @Test func refundFieldsAreChecked() {
        guard
            case .failure(let invalid) = RefundRequest.validate(
                .init(chargeID: "", amountCents: -1, idempotencyKey: String(repeating: "k", count: 256)))
        else {
            Issue.record("an invalid refund passed")
            return
        }
        #expect(Set(invalid.errors.map(\.field)) == ["charge_id", "amount_cents", "idempotency_key"])
    }

    @Test func refundsNeverExceedTheCharge() {
        #expect(RefundDecision.decide(chargeStatus: "succeeded", chargeAmountCents: 1000, refundedCents: 0, amountCents: 1000) == .allowed)
        #expect(RefundDecision.decide(chargeStatus: "succeeded", chargeAmountCents: 1000, refundedCents: 400, amountCents: 600) == .allowed)
        #expect(
            RefundDecision.decide(chargeStatus: "succeeded", chargeAmountCents: 1000, refundedCents: 400, amountCents: 601)
                == .exceedsRefundable(remainingCents: 600)
        )
        #expect(
            RefundDecision.decide(chargeStatus: "declined", chargeAmountCents: 1000, refundedCents: 0, amountCents: 1)
                == .chargeNotSucceeded(status: "declined")
        )
    }
}
