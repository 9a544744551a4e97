/// The body of `GET /v1/ledger`: every charge (approved or declined) and every refund, oldest first.
///
/// The end-to-end tests read this as the ground truth of what money moved.
public struct GatewayLedgerReport: Codable, Sendable, Hashable {
    /// One charge attempt that reached a decision.
    public struct Charge: Codable, Sendable, Hashable {
        public var chargeID: String
        public var orderID: String
        public var amountCents: Int
        public var currency: String
        /// `succeeded` or `declined`.
        public var status: String

        public init(chargeID: String, orderID: String, amountCents: Int, currency: String, status: String) {
            self.chargeID = chargeID
            self.orderID = orderID
            self.amountCents = amountCents
            self.currency = currency
            self.status = status
        }

        enum CodingKeys: String, CodingKey {
            case currency, status
            case chargeID = "charge_id"
            case orderID = "order_id"
            case amountCents = "amount_cents"
        }
    }

    /// One refund of (part of) a charge.
    public struct Refund: Codable, Sendable, Hashable {
        public var refundID: String
        public var chargeID: String
        public var amountCents: Int

        public init(refundID: String, chargeID: String, amountCents: Int) {
            self.refundID = refundID
            self.chargeID = chargeID
            self.amountCents = amountCents
        }

        enum CodingKeys: String, CodingKey {
            case refundID = "refund_id"
            case chargeID = "charge_id"
            case amountCents = "amount_cents"
        }
    }

    public var charges: [Charge]
    public var refunds: [Refund]

    public init(charges: [Charge], refunds: [Refund]) {
        self.charges = charges
        self.refunds = refunds
    }

    /// The charges that took money.
    public var succeededCharges: [Charge] { charges.filter { $0.status == ChargeStatus.succeeded } }
}
