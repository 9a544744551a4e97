import Contracts
import Foundation
import Logging
import Messaging
import ServiceKit
import Telemetry

/// The handlers of the order-service's work queue, one per event type it consumes.
///
/// Each runs inside the ``MessageConsumer``'s transaction, together with the inbox claim, so a
/// redelivered event has no second effect. Malformed payloads and invalid `order.requested`
/// bodies are permanent failures: parked with the reason.
package enum OrderEventHandlers {
    package static func make(saga: OrderSaga, sagaDeadline: Duration) -> EventHandlers {
        /// A handler that moves the orders a batch's events are about, or has an event retried later when it came too early.
        func moving<Payload: Decodable & Sendable>(
            _ decide: @escaping @Sendable (Payload) -> (orderID: String, event: OrderEvent)
        ) -> @Sendable ([EventContext<Payload>]) async throws -> Void {
            { contexts in
                guard let transaction = contexts.first?.transaction else { return }
                let applications = contexts.map { context in
                    let (orderID, event) = decide(context.payload)
                    return OrderSaga.Application(
                        event: event, orderID: orderID, eventID: context.event.id, traceparent: context.traceparent,
                        source: context.event.source, eventTime: context.event.time, logger: context.logger(for: orderID))
                }
                let transitions = try await saga.apply(applications, in: transaction)
                for (context, (application, transition)) in zip(contexts, zip(applications, transitions)) {
                    if case .deferred(let reason) = transition {
                        context.reject(TransientFailure("order \(application.orderID): \(reason); retrying later"))
                    }
                }
            }
        }
        var handlers = EventHandlers()
        handlers.on(
            .paymentSucceeded,
            batch: moving { (payload: PaymentSucceeded) in (payload.orderID, .paymentSucceeded(paymentID: payload.paymentID)) })
        handlers.on(.paymentFailed, batch: moving { (payload: PaymentFailed) in (payload.orderID, .paymentFailed(reason: payload.reason)) })
        handlers.on(.stockReserved, batch: moving { (payload: StockReserved) in (payload.orderID, .stockReserved) })
        handlers.on(
            .stockReservationFailed,
            batch: moving { (payload: StockReservationFailed) in (payload.orderID, .stockReservationFailed(reason: payload.reason)) })
        handlers.on(.paymentRefunded, batch: moving { (payload: PaymentRefunded) in (payload.orderID, .paymentRefunded) })
        handlers.on(.orderRequested, undecoded: { contexts in try await placeRequested(contexts, saga: saga, sagaDeadline: sagaDeadline) })
        return handlers
    }

    /// `order.requested`: the same order as `POST /v1/orders`, made once per event id; a batch's orders
    /// are stored together.
    ///
    /// Read with the intake's own parser rather than as a payload type, so that an invalid request is
    /// parked naming every offending field, as the intake would answer it.
    static func placeRequested(_ contexts: [EventContext<AnyPayload>], saga: OrderSaga, sagaDeadline: Duration) async throws {
        var orders: [(EventContext<AnyPayload>, NewOrder)] = []
        for context in contexts {
            do {
                let request = try OrderRequestParser.parse(context.event.data)
                orders.append(
                    (
                        context,
                        NewOrder(
                            request: request, origin: .ingress(eventID: context.event.id),
                            traceparent: context.traceparent.flatMap(TraceParent.init) ?? .random(), sagaDeadline: sagaDeadline,
                            sourceEvent: NewOrder.SourceEvent(source: context.event.source, time: context.event.time))
                    ))
            } catch {
                context.reject(PermanentFailure("order.requested \(context.event.id) is not a valid order: \(error)"))
            }
        }
        guard let transaction = orders.first?.0.transaction else { return }
        let placements = try await saga.place(orders.map(\.1), in: transaction)
        for ((context, order), placement) in zip(orders, placements) {
            let logger = context.logger(for: order.id.description)
            switch placement {
            case .placed(let placed):
                OrderMetrics.acceptedFromIngress.increment()
                logger.info(
                    "order accepted from ingress", metadata: ["order.total_cents": "\(placed.totalCents)", "customer.id": "\(placed.customer.id)"])
            case .replayed(let id), .conflict(let id):
                logger.info("order.requested seen before; its order stands", metadata: ["order.id": "\(id.description)"])
            }
        }
    }
}
