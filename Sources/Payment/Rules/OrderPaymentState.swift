/// What payment-service knows about one order: whether it was cancelled, its charge and its refund.
package struct OrderPaymentState: Sendable, Hashable {
    /// The recorded decision on the order's charge.
    package struct Charge: Sendable, Hashable {
        /// The gateway's charge id; nil for a decline the gateway gave no id for.
        package var chargeID: String?
        package var status: ChargeStatus
        package var amountCents: Int
        package var currency: String

        package init(chargeID: String?, status: ChargeStatus, amountCents: Int, currency: String) {
            self.chargeID = chargeID
            self.status = status
            self.amountCents = amountCents
            self.currency = currency
        }

        package var succeeded: Bool { status == .succeeded }
    }

    package var cancelled: Bool
    package var charge: Charge?
    /// The refund of the charge, if any.
    package var refundID: String?

    package init(cancelled: Bool = false, charge: Charge? = nil, refundID: String? = nil) {
        self.cancelled = cancelled
        self.charge = charge
        self.refundID = refundID
    }
}

/// What the gateway decided on a charge, as payment-service records it.
package enum ChargeStatus: String, Sendable, Hashable {
    case succeeded
    case declined
}
