/// What payment-service knows about one order: whether it was cancelled, its charge and its refund.
public struct OrderPaymentState: Sendable, Hashable {
    /// The recorded decision on the order's charge.
    public struct Charge: Sendable, Hashable {
        /// The gateway's charge id; nil for a decline the gateway gave no id for.
        public var chargeID: String?
        public var status: ChargeStatus
        public var amountCents: Int
        public var currency: String

        public init(chargeID: String?, status: ChargeStatus, amountCents: Int, currency: String) {
            self.chargeID = chargeID
            self.status = status
            self.amountCents = amountCents
            self.currency = currency
        }

        public var succeeded: Bool { status == .succeeded }
    }

    public var cancelled: Bool
    public var charge: Charge?
    /// The refund of the charge, if any.
    public var refundID: String?

    public init(cancelled: Bool = false, charge: Charge? = nil, refundID: String? = nil) {
        self.cancelled = cancelled
        self.charge = charge
        self.refundID = refundID
    }
}

/// What the gateway decided on a charge, as payment-service records it.
public enum ChargeStatus: String, Sendable, Hashable {
    case succeeded
    case declined
}
