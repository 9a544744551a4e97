import MessagingConventions

/// Which events each service consumes, as the bindings of its work queue.
package enum Subscriptions {
    package static let order = ServiceQueues(
        service: "order",
        subscriptions: [
            .init(exchange: Exchange.payments, routingKeys: [EventType.paymentSucceeded, .paymentFailed, .paymentRefunded].map(\.rawValue)),
            .init(exchange: Exchange.inventory, routingKeys: [EventType.stockReserved, .stockReservationFailed].map(\.rawValue)),
            .init(exchange: Exchange.ingress, routingKeys: [EventType.orderRequested.rawValue]),
        ])

    package static let payment = ServiceQueues(
        service: "payment",
        subscriptions: [
            .init(exchange: Exchange.orders, routingKeys: [EventType.orderPlaced, .orderCancelled].map(\.rawValue)),
            .init(exchange: Exchange.inventory, routingKeys: [EventType.paymentRefundRequested.rawValue]),
        ])

    package static let inventory = ServiceQueues(
        service: "inventory",
        subscriptions: [
            .init(exchange: Exchange.payments, routingKeys: [EventType.paymentSucceeded.rawValue]),
            .init(exchange: Exchange.orders, routingKeys: [EventType.orderCancelled.rawValue]),
            .init(exchange: Exchange.ingress, routingKeys: [EventType.stockAdjusted.rawValue]),
        ])

    package static let notification = ServiceQueues(
        service: "notification",
        subscriptions: [
            .init(exchange: Exchange.orders, routingKeys: [EventType.orderCompleted, .orderFailed, .orderCancelled].map(\.rawValue))
        ])

    package static let all = [order, payment, inventory, notification]
}
