import MessagingConventions

// One constant per event type of the saga, with the payload its data carries. Several types share a
// payload: every order outcome is an `OrderOutcome`, every notification outcome a `NotificationOutcome`.

extension Event {
    init(_ type: EventType) { self.init(type.rawValue) }
}

extension Event where Payload == OrderRequest {
    /// `order.requested`, from other systems on `orderly.ingress`.
    public static var orderRequested: Self { Event(.orderRequested) }
}

extension Event where Payload == OrderPlaced {
    public static var orderPlaced: Self { Event(.orderPlaced) }
}

extension Event where Payload == OrderOutcome {
    public static var orderCompleted: Self { Event(.orderCompleted) }
    public static var orderFailed: Self { Event(.orderFailed) }
    public static var orderCancelled: Self { Event(.orderCancelled) }
}

extension Event where Payload == PaymentSucceeded {
    public static var paymentSucceeded: Self { Event(.paymentSucceeded) }
}

extension Event where Payload == PaymentFailed {
    public static var paymentFailed: Self { Event(.paymentFailed) }
}

extension Event where Payload == PaymentRefunded {
    public static var paymentRefunded: Self { Event(.paymentRefunded) }
}

extension Event where Payload == StockReserved {
    public static var stockReserved: Self { Event(.stockReserved) }
}

extension Event where Payload == StockReservationFailed {
    public static var stockReservationFailed: Self { Event(.stockReservationFailed) }
}

extension Event where Payload == RefundRequested {
    /// `payment.refund_requested`: the compensation inventory asks for when stock fails after payment.
    public static var paymentRefundRequested: Self { Event(.paymentRefundRequested) }
}

extension Event where Payload == NotificationOutcome {
    public static var notificationSent: Self { Event(.notificationSent) }
    public static var notificationFailed: Self { Event(.notificationFailed) }
}

extension Event where Payload == StockAdjusted {
    /// `stock.adjusted`, from other systems on `orderly.ingress`.
    public static var stockAdjusted: Self { Event(.stockAdjusted) }
}
