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
public struct InventoryHandlers: Sendable {
    public let store: InventoryStore

    public init(store: InventoryStore) {
        self.store = store
    }

    /// The handlers by event type, for a ``MessageConsumer``.
    public var handlers: EventHandlers {
        var handlers = EventHandlers()
        handlers.on(EventType.paymentSucceeded, each: paymentSucceeded)
        handlers.on(EventType.orderCancelled, each: orderCancelled)
        handlers.on(EventType.stockAdjusted, each: stockAdjusted)
        return handlers
    }

    /// `payment.succeeded`: reserves every line of the paid order, or none and asks for the refund.
    ///
    /// Does nothing for an order already cancelled or already decided. Emits `stock.reserved`, or
    /// `stock.reservation_failed` together with the compensation `payment.refund_requested`.
    public func paymentSucceeded(_ context: EventContext<PaymentSucceeded>) async throws {
        let payment = context.payload
        let logger = context.logger(for: payment.orderID)
        let transaction = context.transaction
        let order = try await store.lockOrder(payment.orderID, in: transaction)
        if order.cancelled {
            logger.info("payment of a cancelled order; nothing reserved")
            InventoryMetrics.reservation("skipped_cancelled")
            return
        }
        if let decided = order.reservation {
            logger.info("reservation already decided; ignored", metadata: ["reservation": "\(decided.rawValue)"])
            InventoryMetrics.reservation("already_decided")
            return
        }
        let requested = ReservationDecision.requestedHolds(payment.items)
        let available = try await store.lockAvailable(requested.map(\.sku), in: transaction)
        switch ReservationDecision.decide(lines: payment.items, available: available) {
        case .reserve(let holds):
            try await store.reserve(holds, orderID: payment.orderID, paymentID: payment.paymentID, in: transaction)
            try context.emit(.stockReserved, subject: payment.orderID, payload: StockReserved(orderID: payment.orderID, items: payment.items))
            logger.info("stock reserved", metadata: ["skus": "\(holds.map(\.sku).joined(separator: ","))"])
            InventoryMetrics.reservation("reserved")
        case .reject(let missing, let reason):
            try await store.recordRejection(
                orderID: payment.orderID, paymentID: payment.paymentID, missing: missing, reason: reason, in: transaction
            )
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

    /// `order.cancelled`: releases what is held for the order, and remembers the cancellation so
    /// that a `payment.succeeded` arriving later reserves nothing.
    public func orderCancelled(_ context: EventContext<OrderOutcome>) async throws {
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
    public func stockAdjusted(_ context: EventContext<StockAdjusted>) async throws {
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
