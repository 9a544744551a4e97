/// What can happen to an order once it exists: the saga's events as the order state machine sees them.
package enum OrderEvent: Sendable, Hashable {
    /// `payment.succeeded`: the order was charged; `paymentID` names the charge.
    case paymentSucceeded(paymentID: String)
    /// `payment.failed`: the charge was declined; nothing was charged.
    case paymentFailed(reason: String)
    /// `stock.reserved`: every line is held.
    case stockReserved
    /// `stock.reservation_failed`: the stock is short, so the charge is to be refunded.
    case stockReservationFailed(reason: String)
    /// `payment.refunded`: the charge was given back.
    case paymentRefunded
    /// The order's saga deadline passed while it was still open.
    case deadlineExceeded

    /// The reason recorded when an order is cancelled because its deadline passed.
    package static let deadlineReason = "deadline exceeded"

    /// The event's name in logs and in the order's event journal (the routing key, or `saga.deadline`).
    package var name: String {
        switch self {
        case .paymentSucceeded: "payment.succeeded"
        case .paymentFailed: "payment.failed"
        case .stockReserved: "stock.reserved"
        case .stockReservationFailed: "stock.reservation_failed"
        case .paymentRefunded: "payment.refunded"
        case .deadlineExceeded: "saga.deadline"
        }
    }
}
