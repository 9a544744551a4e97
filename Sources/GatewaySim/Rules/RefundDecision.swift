/// Whether a refund of a charge may be made: a pure function of the charge and what was refunded already.
package enum RefundDecision: Sendable, Hashable {
    case allowed
    /// The charge was declined: no money moved, so none can go back.
    case chargeNotSucceeded(status: String)
    /// The amount is more than what remains refundable.
    case exceedsRefundable(remainingCents: Int)

    /// - Parameters:
    ///   - chargeStatus: the charge's status in the ledger (`succeeded`, `declined`).
    ///   - chargeAmountCents: what the charge took.
    ///   - refundedCents: the sum of the charge's refunds so far.
    ///   - amountCents: the refund asked for.
    package static func decide(chargeStatus: String, chargeAmountCents: Int, refundedCents: Int, amountCents: Int) -> RefundDecision {
        guard chargeStatus == ChargeStatus.succeeded else { return .chargeNotSucceeded(status: chargeStatus) }
        let remaining = chargeAmountCents - refundedCents
        guard amountCents <= remaining else { return .exceedsRefundable(remainingCents: remaining) }
        return .allowed
    }
}

/// The statuses of a charge in the ledger.
package enum ChargeStatus {
    package static let succeeded = "succeeded"
    package static let declined = "declined"
}
