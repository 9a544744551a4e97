import Contracts
import Digests
import Foundation
import MessagingConventions

/// One notification to a customer about how their order ended: what every channel sends.
///
/// Built from an order outcome event; its ``id`` depends only on the order and the outcome, so
/// every attempt to send it — a retry, a redelivery, a duplicate event — names the same
/// notification, and a channel can overwrite or deduplicate by it.
package struct CustomerNotification: Sendable, Hashable {
    /// The kinds of outcome a customer is told about.
    package enum Outcome: String, Sendable, Hashable, CaseIterable {
        case completed = "order.completed"
        case failed = "order.failed"
        case cancelled = "order.cancelled"

        /// The event that tells it.
        package var event: Event<OrderOutcome> {
            switch self {
            case .completed: .orderCompleted
            case .failed: .orderFailed
            case .cancelled: .orderCancelled
            }
        }
    }

    package var id: String
    package var outcome: Outcome
    package var orderID: String
    package var customer: Customer
    package var currency: String
    package var totalCents: Int
    package var reason: String?
    /// When the order reached its outcome (the event's time).
    package var occurredAt: Date

    package init(
        id: String? = nil, outcome: Outcome, orderID: String, customer: Customer, currency: String, totalCents: Int, reason: String?,
        occurredAt: Date
    ) {
        self.id = id ?? Self.id(orderID: orderID, outcome: outcome)
        self.outcome = outcome
        self.orderID = orderID
        self.customer = customer
        self.currency = currency
        self.totalCents = totalCents
        self.reason = reason
        self.occurredAt = occurredAt
    }

    /// The notification of an `order.completed`, `order.failed` or `order.cancelled` event.
    ///
    /// - Returns: `nil` when `type` is not an order outcome.
    package init?(type: String, payload: OrderOutcome, occurredAt: Date) {
        guard let outcome = Outcome(rawValue: type) else { return nil }
        self.init(
            outcome: outcome, orderID: payload.orderID, customer: payload.customer, currency: payload.currency, totalCents: payload.totalCents,
            reason: payload.reason, occurredAt: occurredAt
        )
    }

    /// A name-based UUID (version 5 layout, SHA-256 instead of SHA-1) of the order and the outcome.
    package static func id(orderID: String, outcome: Outcome) -> String {
        var bytes = Array(Digest.sha256("orderly.notification|\(orderID)|\(outcome.rawValue)").prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let uuid = UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
        return uuid.uuidString.lowercased()
    }

    /// The total in major units with the currency, `25.00 EUR`.
    package var formattedTotal: String {
        let decimals = Self.zeroDecimalCurrencies.contains(currency.uppercased()) ? 0 : 2
        guard decimals > 0 else { return "\(totalCents) \(currency)" }
        let sign = totalCents < 0 ? "-" : ""
        let magnitude = totalCents.magnitude
        let cents = magnitude % 100
        return "\(sign)\(magnitude / 100).\(cents < 10 ? "0" : "")\(cents) \(currency)"
    }

    /// ISO 4217 currencies without minor units that an order may plausibly use.
    static let zeroDecimalCurrencies: Set<String> = ["JPY", "KRW", "CLP", "ISK", "VND", "UGX", "XAF", "XOF"]
}
