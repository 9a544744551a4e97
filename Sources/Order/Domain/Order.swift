import Contracts
import Foundation
import Messaging

/// An order as clients see it: `GET /v1/orders/{id}` and the body of a `202` to `POST /v1/orders`.
///
/// Encodes as the contract's JSON: snake_case keys, `payment_id` and `failure_reason` always
/// present (`null` when unset), times in RFC 3339 UTC.
package struct Order: Sendable, Hashable, Codable {
    /// One status the order entered, and when.
    package struct HistoryEntry: Sendable, Hashable, Codable {
        package var status: OrderStatus
        package var at: Date

        package init(status: OrderStatus, at: Date) {
            self.status = status
            self.at = at
        }

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(status, forKey: .status)
            try container.encode(CloudEvent.format(at), forKey: .at)
        }

        package init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            status = try container.decode(OrderStatus.self, forKey: .status)
            let text = try container.decode(String.self, forKey: .at)
            guard let at = CloudEvent.parse(text) else {
                throw DecodingError.dataCorruptedError(forKey: .at, in: container, debugDescription: "not an RFC 3339 time: \(text)")
            }
            self.at = at
        }

        enum CodingKeys: String, CodingKey { case status, at }
    }

    package var id: OrderID
    package var status: OrderStatus
    package var currency: String
    package var totalCents: Int
    package var customer: Customer
    package var items: [OrderLine]
    package var paymentID: String?
    package var failureReason: String?
    /// Every status the order entered, oldest first.
    package var history: [HistoryEntry]

    package init(
        id: OrderID, status: OrderStatus, currency: String, totalCents: Int, customer: Customer, items: [OrderLine],
        paymentID: String?, failureReason: String?, history: [HistoryEntry]
    ) {
        self.id = id
        self.status = status
        self.currency = currency
        self.totalCents = totalCents
        self.customer = customer
        self.items = items
        self.paymentID = paymentID
        self.failureReason = failureReason
        self.history = history
    }

    enum CodingKeys: String, CodingKey {
        case id, status, currency, customer, items, history
        case totalCents = "total_cents"
        case paymentID = "payment_id"
        case failureReason = "failure_reason"
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id.description, forKey: .id)
        try container.encode(status, forKey: .status)
        try container.encode(currency, forKey: .currency)
        try container.encode(totalCents, forKey: .totalCents)
        try container.encode(customer, forKey: .customer)
        try container.encode(items, forKey: .items)
        try container.encode(paymentID, forKey: .paymentID)
        try container.encode(failureReason, forKey: .failureReason)
        try container.encode(history, forKey: .history)
    }
}
