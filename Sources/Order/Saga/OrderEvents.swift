import Contracts
import Foundation
import Messaging

/// Builds the events the order-service emits: `order.placed` and the outcomes.
///
/// The exchange is a parameter so that tests can keep their events away from the real saga.
package struct OrderEvents: Sendable, Hashable {
    /// The CloudEvents `source` of every event (`/orderly/order-service`).
    package var source: String
    /// Where the events are published (`orderly.orders`).
    package var exchange: String

    package init(source: String = "/orderly/order-service", exchange: String = Exchange.orders) {
        self.source = source
        self.exchange = exchange
    }

    /// `order.placed` for a new order: what payment needs to charge it.
    package func placed(_ order: NewOrder) throws -> OutgoingEvent {
        let payload = OrderPlaced(
            orderID: order.id.description, customer: order.request.customer, currency: order.request.currency,
            items: order.request.items, totalCents: order.request.totalCents, paymentToken: order.request.payment.token
        )
        return OutgoingEvent(
            try CloudEvent(
                source: source, event: .orderPlaced, subject: payload.orderID, traceparent: order.traceparent.description,
                payload: payload
            ),
            exchange: exchange
        )
    }

    /// The outcome event of an order that just entered a terminal status, or `nil` if `order.status` is not terminal.
    package func outcome(of order: SagaOrder, traceparent: String?) throws -> OutgoingEvent? {
        guard let (event, status) = OrderStateMachine.outcome(for: order.status) else { return nil }
        let payload = OrderOutcome(
            orderID: order.id.description, status: status, customer: order.customer, currency: order.currency,
            totalCents: order.totalCents, reason: order.status == .completed ? nil : order.failureReason
        )
        return OutgoingEvent(
            try CloudEvent(
                source: source, event: event, subject: payload.orderID, traceparent: traceparent ?? order.traceparent, payload: payload),
            exchange: exchange
        )
    }
}
