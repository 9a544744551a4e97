import Contracts
import Foundation

/// The JSON body a webhook receives, with snake_case keys.
package struct WebhookPayload: Codable, Sendable, Hashable {
    package var notificationID: String
    /// `order.completed`, `order.failed` or `order.cancelled`.
    package var outcome: String
    package var orderID: String
    package var customer: Customer
    package var currency: String
    package var totalCents: Int
    package var reason: String?
    /// RFC 3339, UTC.
    package var occurredAt: String

    package init(_ notification: CustomerNotification) {
        notificationID = notification.id
        outcome = notification.outcome.rawValue
        orderID = notification.orderID
        customer = notification.customer
        currency = notification.currency
        totalCents = notification.totalCents
        reason = notification.reason
        occurredAt = notification.occurredAt.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    enum CodingKeys: String, CodingKey {
        case outcome, customer, currency, reason
        case notificationID = "notification_id"
        case orderID = "order_id"
        case totalCents = "total_cents"
        case occurredAt = "occurred_at"
    }

    /// The body bytes: sorted keys, so that the same notification always has the same body and signature.
    package func encoded() throws -> [UInt8] {
        Array(try JSONEncoder.orderly.encode(self))
    }
}
