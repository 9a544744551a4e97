extension EventType {
    /// The Swift type of the event's `data`: what a consumer decodes and a producer encodes.
    ///
    /// The pairing is part of the contract (`docs/asyncapi.yaml` documents each event's payload
    /// schema); several types share one payload, e.g. every order outcome is an ``OrderOutcome``.
    public var payloadType: any (Codable & Sendable).Type {
        switch self {
        case .orderPlaced: OrderPlaced.self
        case .orderCompleted, .orderFailed, .orderCancelled: OrderOutcome.self
        case .paymentSucceeded: PaymentSucceeded.self
        case .paymentFailed: PaymentFailed.self
        case .paymentRefunded: PaymentRefunded.self
        case .stockReserved: StockReserved.self
        case .stockReservationFailed: StockReservationFailed.self
        case .paymentRefundRequested: RefundRequested.self
        case .notificationSent, .notificationFailed: NotificationOutcome.self
        case .orderRequested: OrderRequest.self
        case .stockAdjusted: StockAdjusted.self
        }
    }
}
