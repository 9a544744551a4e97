import Contracts
import Foundation

/// The JSON body a webhook receives, with snake_case keys.
public struct WebhookPayload: Codable, Sendable, Hashable {
    public var notificationID: String
    /// `order.completed`, `order.failed` or `order.cancelled`.
    public var outcome: String
    public var orderID: String
    public var customer: Customer
    public var currency: String
    public var totalCents: Int
    public var reason: String?
    /// RFC 3339, UTC.
    public var occurredAt: String

    public init(_ notification: CustomerNotification) {
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
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }
}
