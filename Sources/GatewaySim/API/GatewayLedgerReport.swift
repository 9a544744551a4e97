import Hummingbird

/// The body of `GET /v1/ledger`: every charge (approved or declined) and every refund, oldest first.
///
/// The end-to-end tests read this as the ground truth of what money moved.
package struct GatewayLedgerReport: ResponseCodable, Sendable, Hashable {
    /// One charge attempt that reached a decision.
    package struct Charge: Codable, Sendable, Hashable {
        package var chargeID: String
        package var orderID: String
        package var amountCents: Int
        package var currency: String
        /// `succeeded` or `declined`.
        package var status: String

        package init(chargeID: String, orderID: String, amountCents: Int, currency: String, status: String) {
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
    package struct Refund: Codable, Sendable, Hashable {
        package var refundID: String
        package var chargeID: String
        package var amountCents: Int

        package init(refundID: String, chargeID: String, amountCents: Int) {
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

    package var charges: [Charge]
    package var refunds: [Refund]

    package init(charges: [Charge], refunds: [Refund]) {
        self.charges = charges
        self.refunds = refunds
    }

    /// The charges that took money.
    package var succeededCharges: [Charge] { charges.filter { $0.status == ChargeStatus.succeeded } }
}
