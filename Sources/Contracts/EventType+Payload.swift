import MessagingConventions

extension EventType {
    /// The Swift type of the event's `data`: what a consumer decodes and a producer encodes, as the
    /// event's ``MessagingConventions/Event`` constant states it (`docs/asyncapi.yaml` documents each one's schema).
    package var payloadType: any (Codable & Sendable).Type {
        switch self {
        case .orderPlaced: Event.orderPlaced.payloadType
        case .orderCompleted: Event.orderCompleted.payloadType
        case .orderFailed: Event.orderFailed.payloadType
        case .orderCancelled: Event.orderCancelled.payloadType
        case .paymentSucceeded: Event.paymentSucceeded.payloadType
        case .paymentFailed: Event.paymentFailed.payloadType
        case .paymentRefunded: Event.paymentRefunded.payloadType
        case .stockReserved: Event.stockReserved.payloadType
        case .stockReservationFailed: Event.stockReservationFailed.payloadType
        case .paymentRefundRequested: Event.paymentRefundRequested.payloadType
        case .notificationSent: Event.notificationSent.payloadType
        case .notificationFailed: Event.notificationFailed.payloadType
        case .orderRequested: Event.orderRequested.payloadType
        case .stockAdjusted: Event.stockAdjusted.payloadType
        }
    }
}
