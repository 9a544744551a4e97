import MessagingConventions

// One constant per event type of the saga, with the payload its data carries. Several types share a
// payload: every order outcome is an `OrderOutcome`, every notification outcome a `NotificationOutcome`.

extension Event {
    init(_ type: EventType) { self.init(type.rawValue) }
}

extension Event where Payload == OrderRequest {
    /// `order.requested`, from other systems on `orderly.ingress`.
    package static var orderRequested: Self { Event(.orderRequested) }
}

extension Event where Payload == OrderPlaced {
    package static var orderPlaced: Self { Event(.orderPlaced) }
}

extension Event where Payload == OrderOutcome {
    package static var orderCompleted: Self { Event(.orderCompleted) }
    package static var orderFailed: Self { Event(.orderFailed) }
    package static var orderCancelled: Self { Event(.orderCancelled) }
}

extension Event where Payload == PaymentSucceeded {
    package static var paymentSucceeded: Self { Event(.paymentSucceeded) }
}

extension Event where Payload == PaymentFailed {
    package static var paymentFailed: Self { Event(.paymentFailed) }
}

extension Event where Payload == PaymentRefunded {
    package static var paymentRefunded: Self { Event(.paymentRefunded) }
}

extension Event where Payload == StockReserved {
    package static var stockReserved: Self { Event(.stockReserved) }
}

extension Event where Payload == StockReservationFailed {
    package static var stockReservationFailed: Self { Event(.stockReservationFailed) }
}

extension Event where Payload == RefundRequested {
    /// `payment.refund_requested`: the compensation inventory asks for when stock fails after payment.
    package static var paymentRefundRequested: Self { Event(.paymentRefundRequested) }
}

extension Event where Payload == NotificationOutcome {
    package static var notificationSent: Self { Event(.notificationSent) }
    package static var notificationFailed: Self { Event(.notificationFailed) }
}

extension Event where Payload == StockAdjusted {
    /// `stock.adjusted`, from other systems on `orderly.ingress`.
    package static var stockAdjusted: Self { Event(.stockAdjusted) }
}
