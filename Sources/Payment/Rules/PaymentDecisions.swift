/// The rules of payment-service, as pure functions of what it knows and what the gateway said.
///
/// The handlers read the state, ask these functions, and do what they say.
package enum PaymentDecisions {
    /// What to do with `order.placed` before calling the gateway.
    package enum BeforeCharge: Sendable, Hashable {
        /// Charge the order (idempotency key `charge:<order id>`).
        case charge
        /// The order was cancelled first: never charge it.
        case skipCancelled
        /// The charge was decided already (a duplicate or redelivered `order.placed`).
        case skipDecided
        /// Nothing can be charged (a total below one cent): record the decline and emit `payment.failed`
        /// without asking the gateway, so the order ends `FAILED` instead of waiting for its deadline.
        case failWithoutCharge(reason: String)
    }

    /// - Parameters:
    ///   - totalCents: the amount `order.placed` asks to charge.
    ///   - mayHaveRunBefore: whether this message may have been handled before without its outcome
    ///     being recorded: a retry through a tier, or a redelivery by the broker after a crash between
    ///     the gateway's answer and the commit. Such a message of a cancelled order still goes to the
    ///     gateway (with the same idempotency key, so it cannot charge twice): the earlier handling may
    ///     have charged, and that charge must be found and refunded rather than forgotten.
    package static func beforeCharge(_ state: OrderPaymentState, totalCents: Int, mayHaveRunBefore: Bool) -> BeforeCharge {
        if state.charge != nil { return .skipDecided }
        if state.cancelled { return mayHaveRunBefore ? .charge : .skipCancelled }
        if totalCents < 1 { return .failWithoutCharge(reason: "invalid_amount: an order total of \(totalCents) cents cannot be charged") }
        return .charge
    }

    /// What to do once the gateway answered a charge; `state` is read again under the order's lock.
    package enum AfterCharge: Sendable, Hashable {
        /// Record the charge and emit `payment.succeeded`.
        case recordAndEmitSucceeded(chargeID: String)
        /// The order was cancelled while the charge was in flight: record it, refund it at once,
        /// emit `payment.refunded` and not `payment.succeeded`.
        case recordAndRefund(chargeID: String)
        /// Record the decline and emit `payment.failed`: the handler succeeds.
        case recordAndEmitFailed(chargeID: String?, reason: String)
        /// A concurrent duplicate recorded the decision first: nothing more to do.
        case alreadyRecorded
        /// Throw a transient failure: the message is retried through the tiers.
        case retry(reason: String)
        /// Throw a permanent failure: the message is parked.
        case reject(reason: String)
    }

    package static func afterCharge(_ outcome: ChargeOutcome, state: OrderPaymentState) -> AfterCharge {
        if state.charge != nil { return .alreadyRecorded }
        switch outcome {
        case .charged(let chargeID):
            return state.cancelled ? .recordAndRefund(chargeID: chargeID) : .recordAndEmitSucceeded(chargeID: chargeID)
        case .declined(let chargeID, let reason):
            return .recordAndEmitFailed(chargeID: chargeID, reason: reason)
        case .transient(let reason):
            return .retry(reason: reason)
        case .rejected(let reason):
            return .reject(reason: reason)
        }
    }

    /// What to do with `payment.refund_requested` or `order.cancelled`.
    package enum Refund: Sendable, Hashable {
        /// Refund the whole charge (idempotency key `refund:<charge id>`) and emit `payment.refunded`.
        case refund(chargeID: String, amountCents: Int, currency: String)
        /// The charge was refunded before: nothing more.
        case alreadyRefunded
        /// No money was taken (no charge yet, or a declined one).
        case nothingCharged
    }

    package static func refund(_ state: OrderPaymentState) -> Refund {
        guard let charge = state.charge, charge.succeeded, let chargeID = charge.chargeID else { return .nothingCharged }
        if state.refundID != nil { return .alreadyRefunded }
        return .refund(chargeID: chargeID, amountCents: charge.amountCents, currency: charge.currency)
    }

    /// The gateway idempotency key of an order's charge.
    package static func chargeKey(orderID: String) -> String { "charge:\(orderID)" }

    /// The gateway idempotency key of a charge's refund.
    package static func refundKey(chargeID: String) -> String { "refund:\(chargeID)" }
}
