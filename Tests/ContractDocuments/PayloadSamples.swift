import Contracts

/// Sample payloads of every event type, built from the Codable structs of `Sources/Contracts`.
///
/// The switches are exhaustive, so a new event type does not compile here until it has samples
/// (and then the tests ask the AsyncAPI document to describe it).
package enum PayloadSamples {
    package static let customer = Customer(id: "c-42", email: "ada@example.com")
    package static let lines = [OrderLine(sku: "SKU-001", quantity: 2, unitPriceCents: 1250)]

    /// A payload with every optional field set and every array non-empty: its JSON shows every key.
    package static func full(_ type: EventType) -> any Encodable {
        switch type {
        case .orderPlaced:
            OrderPlaced(orderID: "o-1", customer: customer, currency: "EUR", items: lines, totalCents: 2500, paymentToken: "tok_ok")
        case .orderCompleted:
            OrderOutcome(orderID: "o-1", status: .completed, customer: customer, currency: "EUR", totalCents: 2500, reason: "paid and reserved")
        case .orderFailed:
            OrderOutcome(orderID: "o-1", status: .failed, customer: customer, currency: "EUR", totalCents: 2500, reason: "card_declined")
        case .orderCancelled:
            OrderOutcome(orderID: "o-1", status: .cancelled, customer: customer, currency: "EUR", totalCents: 2500, reason: "deadline exceeded")
        case .paymentSucceeded:
            PaymentSucceeded(orderID: "o-1", paymentID: "ch_1", amountCents: 2500, currency: "EUR", items: lines)
        case .paymentFailed:
            PaymentFailed(orderID: "o-1", reason: "card_declined")
        case .paymentRefunded:
            PaymentRefunded(orderID: "o-1", paymentID: "ch_1", refundID: "re_1", amountCents: 2500, currency: "EUR")
        case .stockReserved:
            StockReserved(orderID: "o-1", items: lines)
        case .stockReservationFailed:
            StockReservationFailed(orderID: "o-1", reason: "insufficient stock", missing: ["SKU-001"])
        case .paymentRefundRequested:
            RefundRequested(orderID: "o-1", paymentID: "ch_1", amountCents: 2500, currency: "EUR", reason: "insufficient stock")
        case .notificationSent:
            NotificationOutcome(orderID: "o-1", notificationID: "n-1", outcome: "order.completed", channel: "email", reason: "delivered")
        case .notificationFailed:
            NotificationOutcome(orderID: "o-1", notificationID: "n-1", outcome: "order.failed", channel: "webhook", reason: "HTTP 500")
        case .orderRequested:
            OrderRequest(customer: customer, currency: "EUR", items: lines, payment: PaymentMethod(token: "tok_ok"))
        case .stockAdjusted:
            StockAdjusted(sku: "SKU-001", delta: 10, reason: "delivery")
        }
    }

    /// A payload with every optional field unset: its JSON shows only the keys that are always there.
    package static func minimal(_ type: EventType) -> any Encodable {
        switch type {
        case .orderCompleted:
            OrderOutcome(orderID: "o-1", status: .completed, customer: customer, currency: "EUR", totalCents: 2500, reason: nil)
        case .orderFailed, .orderCancelled:
            OrderOutcome(orderID: "o-1", status: .failed, customer: customer, currency: "EUR", totalCents: 2500, reason: nil)
        case .notificationSent, .notificationFailed:
            NotificationOutcome(orderID: "o-1", notificationID: "n-1", outcome: "order.completed", channel: "email", reason: nil)
        case .orderPlaced, .paymentSucceeded, .paymentFailed, .paymentRefunded, .stockReserved, .stockReservationFailed,
            .paymentRefundRequested, .orderRequested, .stockAdjusted:
            full(type)
        }
    }
}
