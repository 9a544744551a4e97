import Contracts
import Foundation
import Logging
import Messaging
import ServiceKit

/// The event handlers of inventory-service.
///
/// Each runs inside the ``MessageConsumer``'s transaction, together with the inbox claim and the
/// events it emits, so a redelivery of the same event changes nothing, and a crash anywhere leaves
/// either all of a handler's effects or none. Decisions come from ``ReservationDecision`` and
/// ``StockLevel``; the handlers only read, lock, write and emit.
package struct InventoryHandlers: Sendable {
    package let store: InventoryStore

    package init(store: InventoryStore) {
        self.store = store
    }

    /// The handlers by event type, for a ``MessageConsumer``.
    package var handlers: EventHandlers {
        var handlers = EventHandlers()
        handlers.on(.paymentSucceeded, batch: paymentsSucceeded)
        handlers.on(.orderCancelled, each: orderCancelled)
        handlers.on(.stockAdjusted, each: stockAdjusted)
        return handlers
    }

    /// `payment.succeeded`: reserves every line of each paid order, or none and asks for its refund.
    ///
    /// A batch locks its orders with one statement and every SKU they ask for with another, decides
    /// the reservations in delivery order against that stock (``ReservationDecision/decideInTurn(_:available:)``),
    /// and records them with the next round trip. Does nothing for an order already cancelled or already decided.
    /// Emits `stock.reserved`, or `stock.reservation_failed` together with the compensation
    /// `payment.refund_requested`.
    package func paymentsSucceeded(_ contexts: [EventContext<PaymentSucceeded>]) async throws {
        guard let transaction = contexts.first?.transaction else { return }
        let orders = try await store.lockOrders(contexts.map(\.payload.orderID), in: transaction)
        var undecided: [EventContext<PaymentSucceeded>] = []
        var deciding: Set<String> = []
        for context in contexts {
            let logger = context.logger(for: context.payload.orderID)
            guard let order = orders[context.payload.orderID] else { continue }
            if order.cancelled {
                logger.info("payment of a cancelled order; nothing reserved")
                InventoryMetrics.reservation("skipped_cancelled")
            } else if let decided = order.reservation {
                logger.info("reservation already decided; ignored", metadata: ["reservation": "\(decided.rawValue)"])
                InventoryMetrics.reservation("already_decided")
            } else if !deciding.insert(order.orderID).inserted {
                logger.info("reservation decided earlier in this batch; ignored")
                InventoryMetrics.reservation("already_decided")
            } else {
                undecided.append(context)
            }
        }
        guard !undecided.isEmpty else { return }
        let skus = Set(undecided.flatMap { $0.payload.items.map(\.sku) })
        let available = try await store.lockAvailable(Array(skus), in: transaction)
        let decisions = ReservationDecision.decideInTurn(undecided.map(\.payload.items), available: available)
        var records: [ReservationRecord] = []
        for (context, decision) in zip(undecided, decisions) {
            let payment = context.payload
            let logger = context.logger(for: payment.orderID)
            records.append(ReservationRecord(orderID: payment.orderID, paymentID: payment.paymentID, decision: decision))
            switch decision {
            case .reserve(let holds):
                try context.emit(.stockReserved, subject: payment.orderID, payload: StockReserved(orderID: payment.orderID, items: payment.items))
                logger.info("stock reserved", metadata: ["skus": "\(holds.map(\.sku).joined(separator: ","))"])
                InventoryMetrics.reservation("reserved")
            case .reject(let missing, let reason):
                let failed = StockReservationFailed(orderID: payment.orderID, reason: reason, missing: missing)
                let refund = RefundRequested(
                    orderID: payment.orderID, paymentID: payment.paymentID, amountCents: payment.amountCents, currency: payment.currency,
                    reason: "stock reservation failed: \(reason)"
                )
                try context.emit(.stockReservationFailed, subject: payment.orderID, payload: failed)
                try context.emit(.paymentRefundRequested, subject: payment.orderID, payload: refund)
                logger.info("stock reservation failed; refund requested", metadata: ["reason": "\(reason)"])
                InventoryMetrics.reservation("rejected")
            }
        }
        store.record(records, in: transaction)
    }

    /// `order.cancelled`: releases what is held for the order, and remembers the cancellation so
    /// that a `payment.succeeded` arriving later reserves nothing.
    package func orderCancelled(_ context: EventContext<OrderOutcome>) async throws {
        let outcome = context.payload
        let logger = context.logger(for: outcome.orderID)
        let order = try await store.lockOrder(outcome.orderID, in: context.transaction)
        try await store.markCancelled(outcome.orderID, in: context.transaction)
        guard order.reservation == .reserved, !order.released else {
            logger.info("order cancelled; nothing held")
            return
        }
        let released = try await store.release(orderID: outcome.orderID, in: context.transaction)
        logger.info("order cancelled; stock released", metadata: ["skus": "\(released.map(\.sku).joined(separator: ","))"])
        InventoryMetrics.released()
    }

    /// `stock.adjusted`: changes a SKU's available stock by the delta, creating the SKU if new.
    ///
    /// - Throws: ``StockAdjustmentError`` (permanent, so the message is parked) when the stock
    ///   would go negative; ``PermanentFailure`` for an empty SKU.
    package func stockAdjusted(_ context: EventContext<StockAdjusted>) async throws {
        let adjustment = context.payload
        guard !adjustment.sku.isEmpty else { throw PermanentFailure("stock.adjusted has an empty sku") }
        var logger = context.logger
        logger[metadataKey: "sku"] = "\(adjustment.sku)"
        let level = try await store.lockLevel(sku: adjustment.sku, in: context.transaction)
        let adjusted = try level.adjusted(by: adjustment.delta)
        try await store.applyAdjustment(
            adjusted, delta: adjustment.delta, reason: adjustment.reason, eventID: context.event.id, in: context.transaction
        )
        logger.info("stock adjusted", metadata: ["delta": "\(adjustment.delta)", "available": "\(adjusted.available)"])
        InventoryMetrics.adjusted()
    }
}
