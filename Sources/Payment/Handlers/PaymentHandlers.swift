import Contracts
import Logging
import Messaging

/// The handlers of payment-service's events, each run by ``MessageConsumer`` in one transaction
/// with the inbox claim and the events it emits.
///
/// Idempotency: the gateway keys (`charge:<order id>`, `refund:<charge id>`) make a repeated call
/// return the first answer, and the unique charge per order and refund per charge make a repeated
/// record impossible; so no redelivery, duplicate or race ever charges or refunds twice.
///
/// Races: the handlers of one order take the order's lock (``PaymentStore/lock(orderID:in:)``) before
/// they decide from the state, and `order.placed` takes it only after the gateway answered, so a
/// charge and a cancellation always see each other and a slow gateway holds no lock.
///
/// Failures: a declined card is a business outcome (`payment.failed`); gateway timeouts, `5xx` and
/// refused connections throw ``TransientFailure`` (retried); other gateway refusals and events
/// that make no sense throw ``PermanentFailure`` (parked).
public struct PaymentHandlers: Sendable {
    public let store: PaymentStore
    public let gateway: GatewayClient
    /// Where `payment.*` events are published.
    public let exchange: String
    /// The CloudEvents `source` of what payment-service emits.
    public let source: String

    public init(store: PaymentStore, gateway: GatewayClient, exchange: String, source: String) {
        self.store = store
        self.gateway = gateway
        self.exchange = exchange
        self.source = source
    }

    /// The handlers by event type, for ``MessageConsumer``.
    public var byEventType: [String: EventHandler] {
        [
            EventType.orderPlaced.rawValue: { try await orderPlaced($0) },
            EventType.paymentRefundRequested.rawValue: { try await refundRequested($0) },
            EventType.orderCancelled.rawValue: { try await orderCancelled($0) },
        ]
    }

    // MARK: - order.placed

    /// Charges the order once, unless it was cancelled first; emits `payment.succeeded` or
    /// `payment.failed`, or refunds at once when the order was cancelled while the charge was in flight.
    func orderPlaced(_ context: EventContext) async throws {
        let placed = try context.event.decodeData(as: OrderPlaced.self)
        var logger = context.logger
        logger[metadataKey: "order.id"] = "\(placed.orderID)"
        let transaction = context.transaction

        let before = try await store.state(of: placed.orderID, in: transaction)
        switch PaymentDecisions.beforeCharge(before, totalCents: placed.totalCents, mayHaveRunBefore: context.mayHaveRunBefore) {
        case .skipCancelled:
            logger.info("order was cancelled before it was placed here; not charging it")
            return
        case .skipDecided:
            logger.info("charge already decided; duplicate order.placed ignored")
            return
        case .failWithoutCharge(let reason):
            try await store.lock(orderID: placed.orderID, in: transaction)
            try await store.recordCharge(
                orderID: placed.orderID, chargeID: nil, status: OrderPaymentState.Charge.declined, amountCents: placed.totalCents,
                currency: placed.currency, reason: reason, in: transaction
            )
            try await emit(.paymentFailed, context: context, orderID: placed.orderID, payload: PaymentFailed(orderID: placed.orderID, reason: reason))
            logger.warning("order cannot be charged; failed without asking the gateway", metadata: ["reason": "\(reason)"])
            return
        case .charge:
            break
        }

        let outcome = ChargeOutcome(
            await gateway.charge(
                amountCents: placed.totalCents, currency: placed.currency, token: placed.paymentToken,
                idempotencyKey: PaymentDecisions.chargeKey(orderID: placed.orderID), orderID: placed.orderID
            )
        )
        PaymentMetrics.charge(outcome)

        try await store.lock(orderID: placed.orderID, in: transaction)
        let after = try await store.state(of: placed.orderID, in: transaction)
        switch PaymentDecisions.afterCharge(outcome, state: after) {
        case .recordAndEmitSucceeded(let chargeID):
            try await store.recordCharge(
                orderID: placed.orderID, chargeID: chargeID, status: OrderPaymentState.Charge.succeeded, amountCents: placed.totalCents,
                currency: placed.currency, reason: nil, in: transaction
            )
            try await emit(
                .paymentSucceeded, context: context, orderID: placed.orderID,
                payload: PaymentSucceeded(
                    orderID: placed.orderID, paymentID: chargeID, amountCents: placed.totalCents, currency: placed.currency, items: placed.items
                )
            )
            logger.info("order charged", metadata: ["payment.id": "\(chargeID)", "amount_cents": "\(placed.totalCents)"])
        case .recordAndRefund(let chargeID):
            try await store.recordCharge(
                orderID: placed.orderID, chargeID: chargeID, status: OrderPaymentState.Charge.succeeded, amountCents: placed.totalCents,
                currency: placed.currency, reason: "cancelled while the charge was in flight", in: transaction
            )
            logger.warning("order was cancelled while it was being charged; refunding at once", metadata: ["payment.id": "\(chargeID)"])
            try await refund(
                orderID: placed.orderID, chargeID: chargeID, amountCents: placed.totalCents, currency: placed.currency,
                reason: "order cancelled while the charge was in flight", context: context, logger: logger
            )
        case .recordAndEmitFailed(let chargeID, let reason):
            try await store.recordCharge(
                orderID: placed.orderID, chargeID: chargeID, status: OrderPaymentState.Charge.declined, amountCents: placed.totalCents,
                currency: placed.currency, reason: reason, in: transaction
            )
            try await emit(.paymentFailed, context: context, orderID: placed.orderID, payload: PaymentFailed(orderID: placed.orderID, reason: reason))
            logger.info("charge declined", metadata: ["reason": "\(reason)"])
        case .alreadyRecorded:
            logger.info("a concurrent duplicate recorded the charge first; nothing more to do")
        case .retry(let reason):
            throw TransientFailure("charging order \(placed.orderID) failed for now: \(reason)")
        case .reject(let reason):
            throw PermanentFailure("the gateway refused to charge order \(placed.orderID): \(reason)")
        }
    }

    // MARK: - payment.refund_requested

    /// Refunds the order's charge once (the saga's compensation) and emits `payment.refunded`.
    func refundRequested(_ context: EventContext) async throws {
        let request = try context.event.decodeData(as: RefundRequested.self)
        var logger = context.logger
        logger[metadataKey: "order.id"] = "\(request.orderID)"
        try await store.lock(orderID: request.orderID, in: context.transaction)
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
                orderID: request.orderID, chargeID: chargeID, amountCents: amountCents, currency: currency, reason: request.reason,
                context: context, logger: logger
            )
        case .alreadyRefunded:
            logger.info("charge already refunded; refund request ignored")
        case .nothingCharged:
            throw PermanentFailure("refund requested for order \(request.orderID), but it has no successful charge here")
        }
    }

    // MARK: - order.cancelled

    /// Remembers the cancellation (so a later `order.placed` is not charged) and refunds the order's
    /// charge once if it has one.
    func orderCancelled(_ context: EventContext) async throws {
        let outcome = try context.event.decodeData(as: OrderOutcome.self)
        var logger = context.logger
        logger[metadataKey: "order.id"] = "\(outcome.orderID)"
        try await store.lock(orderID: outcome.orderID, in: context.transaction)
        try await store.recordCancellation(orderID: outcome.orderID, reason: outcome.reason, in: context.transaction)
        let state = try await store.state(of: outcome.orderID, in: context.transaction)
        switch PaymentDecisions.refund(state) {
        case .refund(let chargeID, let amountCents, let currency):
            try await refund(
                orderID: outcome.orderID, chargeID: chargeID, amountCents: amountCents, currency: currency,
                reason: "order cancelled: \(outcome.reason ?? "no reason given")", context: context, logger: logger
            )
        case .alreadyRefunded:
            logger.info("order cancelled; its charge was refunded already")
        case .nothingCharged:
            logger.info("order cancelled before any charge; it will not be charged")
        }
    }

    // MARK: - Helpers

    /// Refunds a charge in full through the gateway, records it and emits `payment.refunded`.
    private func refund(
        orderID: String, chargeID: String, amountCents: Int, currency: String, reason: String, context: EventContext, logger: Logger
    ) async throws {
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
            try await emit(
                .paymentRefunded, context: context, orderID: orderID,
                payload: PaymentRefunded(orderID: orderID, paymentID: chargeID, refundID: refundID, amountCents: amountCents, currency: currency)
            )
            logger.info("charge refunded", metadata: ["payment.id": "\(chargeID)", "refund.id": "\(refundID)", "amount_cents": "\(amountCents)"])
        case .transient(let reason):
            throw TransientFailure("refunding charge \(chargeID) of order \(orderID) failed for now: \(reason)")
        case .rejected(let reason):
            throw PermanentFailure("the gateway refused to refund charge \(chargeID) of order \(orderID): \(reason)")
        }
    }

    private func emit(_ type: EventType, context: EventContext, orderID: String, payload: some Encodable) async throws {
        let event = try CloudEvent(source: source, type: type.rawValue, subject: orderID, traceparent: context.event.traceparent, payload: payload)
        try await context.emit(event, exchange: exchange)
    }
}
