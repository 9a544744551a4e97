import Contracts
import Logging
import Messaging
import ServiceKit

/// The handlers of payment-service's events, run by ``MessageConsumer`` in one transaction per batch
/// with the inbox records and the events they emit.
///
/// Idempotency: the gateway keys (`charge:<order id>`, `refund:<charge id>`) make a repeated call
/// return the first answer, and the unique charge per order and refund per charge make a repeated
/// record impossible; so no redelivery, duplicate or race ever charges or refunds twice.
///
/// Races: the handlers of one order take the order's lock (``PaymentStore/lock(orderIDs:in:)``) before
/// they decide from the state, and `order.placed` takes it only after the gateway answered, so a
/// charge and a cancellation always see each other and a slow gateway holds no lock.
///
/// Batches: the charges of a batch's `order.placed` events are asked of the gateway concurrently, and
/// recorded with one statement.
///
/// Failures: a declined card is a business outcome (`payment.failed`); gateway timeouts, `5xx` and
/// refused connections reject the event with ``TransientFailure`` (retried through the tiers while the
/// rest of the batch commits); other gateway refusals and events that make no sense are
/// ``PermanentFailure`` (parked).
package struct PaymentHandlers: Sendable {
    package let store: PaymentStore
    package let gateway: GatewayClient

    package init(store: PaymentStore, gateway: GatewayClient) {
        self.store = store
        self.gateway = gateway
    }

    /// The handlers by event type, for ``MessageConsumer``.
    package var handlers: EventHandlers {
        var handlers = EventHandlers()
        handlers.on(.orderPlaced, batch: ordersPlaced)
        handlers.on(.paymentRefundRequested, each: refundRequested)
        handlers.on(.orderCancelled, each: orderCancelled)
        return handlers
    }

    // MARK: - order.placed

    /// Charges each order once, unless it was cancelled first; emits `payment.succeeded` or
    /// `payment.failed`, or refunds at once an order cancelled while its charge was in flight.
    func ordersPlaced(_ events: [EventContext<OrderPlaced>]) async throws {
        guard let transaction = events.first?.transaction else { return }
        let before = try await store.states(of: events.map(\.payload.orderID), in: transaction)
        var toCharge: [EventContext<OrderPlaced>] = []
        for context in events {
            let placed = context.payload
            switch PaymentDecisions.beforeCharge(
                before[placed.orderID] ?? OrderPaymentState(), totalCents: placed.totalCents, mayHaveRunBefore: context.mayHaveRunBefore)
            {
            case .skipCancelled:
                context.logger(for: placed.orderID).info("order was cancelled before it was placed here; not charging it")
            case .skipDecided:
                context.logger(for: placed.orderID).info("charge already decided; duplicate order.placed ignored")
            case .failWithoutCharge(let reason):
                try await recordDecline(context, chargeID: nil, reason: reason)
                context.logger(for: placed.orderID).warning(
                    "order cannot be charged; failed without asking the gateway", metadata: ["reason": "\(reason)"])
            case .charge:
                toCharge.append(context)
            }
        }
        guard !toCharge.isEmpty else { return }
        let outcomes = await withTaskGroup(of: (Int, ChargeOutcome).self) { group in
            for (index, context) in toCharge.enumerated() {
                let placed = context.payload
                group.addTask {
                    let answer = await gateway.charge(
                        amountCents: placed.totalCents, currency: placed.currency, token: placed.paymentToken,
                        idempotencyKey: PaymentDecisions.chargeKey(orderID: placed.orderID), orderID: placed.orderID)
                    return (index, ChargeOutcome(answer))
                }
            }
            return await group.reduce(into: [Int: ChargeOutcome]()) { $0[$1.0] = $1.1 }
        }
        try await store.lock(orderIDs: toCharge.map(\.payload.orderID), in: transaction)
        let after = try await store.states(of: toCharge.map(\.payload.orderID), in: transaction)
        var succeeded: [PaymentStore.ChargeRecord] = []
        for (index, context) in toCharge.enumerated() {
            let placed = context.payload
            let outcome = outcomes[index]!
            PaymentMetrics.charge(outcome)
            let logger = context.logger(for: placed.orderID)
            switch PaymentDecisions.afterCharge(outcome, state: after[placed.orderID] ?? OrderPaymentState()) {
            case .recordAndEmitSucceeded(let chargeID):
                succeeded.append(
                    PaymentStore.ChargeRecord(
                        orderID: placed.orderID, chargeID: chargeID, status: .succeeded, amountCents: placed.totalCents,
                        currency: placed.currency, reason: nil))
                try context.emit(
                    .paymentSucceeded, subject: placed.orderID,
                    payload: PaymentSucceeded(
                        orderID: placed.orderID, paymentID: chargeID, amountCents: placed.totalCents, currency: placed.currency, items: placed.items))
                logger.info("order charged", metadata: ["payment.id": "\(chargeID)", "amount_cents": "\(placed.totalCents)"])
            case .recordAndRefund(let chargeID):
                try await store.recordCharge(
                    orderID: placed.orderID, chargeID: chargeID, status: .succeeded, amountCents: placed.totalCents,
                    currency: placed.currency, reason: "cancelled while the charge was in flight", in: transaction)
                logger.warning("order was cancelled while it was being charged; refunding at once", metadata: ["payment.id": "\(chargeID)"])
                try await refund(
                    context, orderID: placed.orderID, chargeID: chargeID, amountCents: placed.totalCents, currency: placed.currency,
                    reason: "order cancelled while the charge was in flight")
            case .recordAndEmitFailed(let chargeID, let reason):
                try await recordDecline(context, chargeID: chargeID, reason: reason)
                logger.info("charge declined", metadata: ["reason": "\(reason)"])
            case .alreadyRecorded:
                logger.info("a concurrent duplicate recorded the charge first; nothing more to do")
            case .retry(let reason):
                context.reject(TransientFailure("charging order \(placed.orderID) failed for now: \(reason)"))
            case .reject(let reason):
                context.reject(PermanentFailure("the gateway refused to charge order \(placed.orderID): \(reason)"))
            }
        }
        store.recordCharges(succeeded, in: transaction)
    }

    /// Records a decline (or an order that cannot be charged) and emits `payment.failed`.
    private func recordDecline(_ context: EventContext<OrderPlaced>, chargeID: String?, reason: String) async throws {
        let placed = context.payload
        try await store.recordCharge(
            orderID: placed.orderID, chargeID: chargeID, status: .declined, amountCents: placed.totalCents,
            currency: placed.currency, reason: reason, in: context.transaction)
        try context.emit(.paymentFailed, subject: placed.orderID, payload: PaymentFailed(orderID: placed.orderID, reason: reason))
    }

    // MARK: - payment.refund_requested

    /// Refunds the order's charge once (the saga's compensation) and emits `payment.refunded`.
    func refundRequested(_ context: EventContext<RefundRequested>) async throws {
        let request = context.payload
        let logger = context.logger(for: request.orderID)
        try await store.lock(orderIDs: [request.orderID], in: context.transaction)
        let state = try await store.state(of: request.orderID, in: context.transaction)
        if let chargeID = state.charge?.chargeID, chargeID != request.paymentID {
            throw PermanentFailure("refund requested for payment \(request.paymentID), but order \(request.orderID) was charged as \(chargeID)")
        }
        switch PaymentDecisions.refund(state) {
        case .refund(let chargeID, let amountCents, let currency):
            if amountCents != request.amountCents {
                logger.warning(
                    "refund request names another amount than the charge; refunding the charge in full",
                    metadata: ["requested_cents": "\(request.amountCents)", "charged_cents": "\(amountCents)"]
                )
            }
            try await refund(
                context, orderID: request.orderID, chargeID: chargeID, amountCents: amountCents, currency: currency, reason: request.reason)
        case .alreadyRefunded:
            logger.info("charge already refunded; refund request ignored")
        case .nothingCharged:
            throw PermanentFailure("refund requested for order \(request.orderID), but it has no successful charge here")
        }
    }

    // MARK: - order.cancelled

    /// Remembers the cancellation (so a later `order.placed` is not charged) and refunds the order's
    /// charge once if it has one.
    func orderCancelled(_ context: EventContext<OrderOutcome>) async throws {
        let outcome = context.payload
        let logger = context.logger(for: outcome.orderID)
        try await store.lock(orderIDs: [outcome.orderID], in: context.transaction)
        try await store.recordCancellation(orderID: outcome.orderID, reason: outcome.reason, in: context.transaction)
        let state = try await store.state(of: outcome.orderID, in: context.transaction)
        switch PaymentDecisions.refund(state) {
        case .refund(let chargeID, let amountCents, let currency):
            try await refund(
                context, orderID: outcome.orderID, chargeID: chargeID, amountCents: amountCents, currency: currency,
                reason: "order cancelled: \(outcome.reason ?? "no reason given")")
        case .alreadyRefunded:
            logger.info("order cancelled; its charge was refunded already")
        case .nothingCharged:
            logger.info("order cancelled before any charge; it will not be charged")
        }
    }

    // MARK: - Helpers

    /// Refunds a charge in full through the gateway, records it and emits `payment.refunded`.
    private func refund<Payload>(
        _ context: EventContext<Payload>, orderID: String, chargeID: String, amountCents: Int, currency: String, reason: String
    ) async throws {
        let logger = context.logger(for: orderID)
        let outcome = RefundOutcome(
            await gateway.refund(chargeID: chargeID, amountCents: amountCents, idempotencyKey: PaymentDecisions.refundKey(chargeID: chargeID))
        )
        PaymentMetrics.refund(outcome)
        switch outcome {
        case .refunded(let refundID):
            let recorded = try await store.recordRefund(
                refundID: refundID, chargeID: chargeID, orderID: orderID, amountCents: amountCents, currency: currency, reason: reason,
                in: context.transaction
            )
            guard recorded else {
                logger.info("refund already recorded", metadata: ["payment.id": "\(chargeID)"])
                return
            }
            try context.emit(
                .paymentRefunded, subject: orderID,
                payload: PaymentRefunded(orderID: orderID, paymentID: chargeID, refundID: refundID, amountCents: amountCents, currency: currency))
            logger.info("charge refunded", metadata: ["payment.id": "\(chargeID)", "refund.id": "\(refundID)", "amount_cents": "\(amountCents)"])
        case .transient(let reason):
            throw TransientFailure("refunding charge \(chargeID) of order \(orderID) failed for now: \(reason)")
        case .rejected(let reason):
            throw PermanentFailure("the gateway refused to refund charge \(chargeID) of order \(orderID): \(reason)")
        }
    }
}
