import Contracts
import Foundation
import Logging
import Messaging
import Metrics

/// The handlers of the order-service's work queue, one per event type it consumes.
///
/// Each runs inside the ``MessageConsumer``'s transaction, together with the inbox claim, so a
/// redelivered event has no second effect. Malformed payloads and invalid `order.requested`
/// bodies are permanent failures: parked with the reason.
public enum OrderEventHandlers {
    public static func make(saga: OrderSaga, sagaDeadline: Duration) -> [String: EventHandler] {
        func moving(_ decide: @escaping @Sendable (CloudEvent) throws -> (orderID: String, event: OrderEvent)) -> EventHandler {
            { context in
                let (orderID, event) = try decide(context.event)
                var logger = context.logger
                logger[metadataKey: "order.id"] = "\(orderID)"
                try await saga.apply(
                    event, toOrder: orderID, eventID: context.event.id, traceparent: context.event.traceparent, in: context.transaction,
                    logger: logger
                )
            }
        }
        return [
            EventType.paymentSucceeded.rawValue: moving { event in
                let payload = try event.decodeData(as: PaymentSucceeded.self)
                return (payload.orderID, .paymentSucceeded(paymentID: payload.paymentID))
            },
            EventType.paymentFailed.rawValue: moving { event in
                let payload = try event.decodeData(as: PaymentFailed.self)
                return (payload.orderID, .paymentFailed(reason: payload.reason))
            },
            EventType.stockReserved.rawValue: moving { event in
                (try event.decodeData(as: StockReserved.self).orderID, .stockReserved)
            },
            EventType.stockReservationFailed.rawValue: moving { event in
                let payload = try event.decodeData(as: StockReservationFailed.self)
                return (payload.orderID, .stockReservationFailed(reason: payload.reason))
            },
            EventType.paymentRefunded.rawValue: moving { event in
                (try event.decodeData(as: PaymentRefunded.self).orderID, .paymentRefunded)
            },
            EventType.orderRequested.rawValue: { context in try await placeRequested(context, saga: saga, sagaDeadline: sagaDeadline) },
        ]
    }

    /// `order.requested`: the same order as `POST /v1/orders`, made once per event id.
    static func placeRequested(_ context: EventContext, saga: OrderSaga, sagaDeadline: Duration) async throws {
        let request: OrderRequest
        do {
            request = try OrderRequestParser.parse(context.event.data)
        } catch {
            throw PermanentFailure("order.requested \(context.event.id) is not a valid order: \(error)")
        }
        let order = NewOrder(
            request: request, origin: .ingress(eventID: context.event.id),
            traceparent: context.event.traceparent.flatMap(TraceParent.init) ?? .random(), sagaDeadline: sagaDeadline
        )
        var logger = context.logger
        logger[metadataKey: "order.id"] = "\(order.id.uuidString.lowercased())"
        switch try await saga.place(order, in: context.transaction) {
        case .placed(let placed):
            Counter(label: "orderly_orders_accepted_total", dimensions: [("channel", "ingress")]).increment()
            logger.info(
                "order accepted from ingress", metadata: ["order.total_cents": "\(placed.totalCents)", "customer.id": "\(placed.customer.id)"])
        case .replayed(let id), .conflict(let id):
            logger.info("order.requested seen before; its order stands", metadata: ["order.id": "\(id.uuidString.lowercased())"])
        }
    }
}
