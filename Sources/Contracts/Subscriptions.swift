import MessagingConventions

/// Which events each service consumes, as the bindings of its work queue.
public enum Subscriptions {
    public static let order = ServiceQueues(
        service: "order",
        subscriptions: [
            .init(exchange: Exchange.payments, routingKeys: [EventType.paymentSucceeded, .paymentFailed, .paymentRefunded].map(\.rawValue)),
            .init(exchange: Exchange.inventory, routingKeys: [EventType.stockReserved, .stockReservationFailed].map(\.rawValue)),
            .init(exchange: Exchange.ingress, routingKeys: [EventType.orderRequested.rawValue]),
        ])

    public static let payment = ServiceQueues(
        service: "payment",
        subscriptions: [
            .init(exchange: Exchange.orders, routingKeys: [EventType.orderPlaced, .orderCancelled].map(\.rawValue)),
            .init(exchange: Exchange.inventory, routingKeys: [EventType.paymentRefundRequested.rawValue]),
        ])

    public static let inventory = ServiceQueues(
        service: "inventory",
        subscriptions: [
            .init(exchange: Exchange.payments, routingKeys: [EventType.paymentSucceeded.rawValue]),
            .init(exchange: Exchange.orders, routingKeys: [EventType.orderCancelled.rawValue]),
            .init(exchange: Exchange.ingress, routingKeys: [EventType.stockAdjusted.rawValue]),
        ])

    public static let notification = ServiceQueues(
        service: "notification",
        subscriptions: [
            .init(exchange: Exchange.orders, routingKeys: [EventType.orderCompleted, .orderFailed, .orderCancelled].map(\.rawValue))
        ])

    public static let all = [order, payment, inventory, notification]
}
