/// Every event type of the saga. The type is also the routing key.
package enum EventType: String, Sendable, CaseIterable, Codable {
    case orderPlaced = "order.placed"
    case orderCompleted = "order.completed"
    case orderFailed = "order.failed"
    case orderCancelled = "order.cancelled"
    case paymentSucceeded = "payment.succeeded"
    case paymentFailed = "payment.failed"
    case paymentRefunded = "payment.refunded"
    case stockReserved = "stock.reserved"
    case stockReservationFailed = "stock.reservation_failed"
    case paymentRefundRequested = "payment.refund_requested"
    case notificationSent = "notification.sent"
    case notificationFailed = "notification.failed"
    case orderRequested = "order.requested"
    case stockAdjusted = "stock.adjusted"

    /// The exchange this type is published on.
    package var exchange: String {
        switch self {
        case .orderPlaced, .orderCompleted, .orderFailed, .orderCancelled: Exchange.orders
        case .paymentSucceeded, .paymentFailed, .paymentRefunded: Exchange.payments
        case .stockReserved, .stockReservationFailed, .paymentRefundRequested: Exchange.inventory
        case .notificationSent, .notificationFailed: Exchange.notifications
        case .orderRequested, .stockAdjusted: Exchange.ingress
        }
    }
}
