import Contracts
import Foundation
import Logging
import Messaging
import Metrics
import Postgres

/// The order-service's side of the saga: placing orders, and moving them as events arrive.
///
/// Each operation works inside a caller's transaction: the order's change, its history, its
/// journal entry and the events it emits (through the outbox) commit together or not at all.
public struct OrderSaga: Sendable {
    public let store: OrderStore
    public let outbox: Outbox
    public let events: OrderEvents

    public init(schema: String, events: OrderEvents) {
        self.store = OrderStore(schema: schema)
        self.outbox = Outbox(schema: schema)
        self.events = events
    }

    /// What ``place(_:in:)`` did.
    public enum Placement: Sendable, Hashable {
        /// A new order in `PENDING`, with `order.placed` in the outbox.
        case placed(Order)
        /// The idempotency key (or ingress event) was used before, for the same request: that order.
        case replayed(UUID)
        /// The idempotency key was used before for a different request.
        case conflict(UUID)
    }

    /// Stores a new order and its `order.placed` event, or finds the order its key already made.
    public func place(_ order: NewOrder, in transaction: PostgresTransaction) async throws -> Placement {
        try await place([order], in: transaction)[0]
    }

    /// Stores several new orders and their `order.placed` events with one statement per table, or finds the
    /// orders their keys already made. Placements in the order given.
    public func place(_ orders: [NewOrder], in transaction: PostgresTransaction) async throws -> [Placement] {
        let outcomes = try await store.insert(orders, in: transaction)
        var placed: [OutgoingEvent] = []
        let placements = try zip(orders, outcomes).map { order, outcome -> Placement in
            switch outcome {
            case .existing(let id, let sameRequest):
                return sameRequest ? .replayed(id) : .conflict(id)
            case .created(let createdAt):
                placed.append(try events.placed(order))
                return .placed(
                    Order(
                        id: order.id, status: .pending, currency: order.request.currency, totalCents: order.request.totalCents,
                        customer: order.request.customer, items: order.request.items, paymentID: nil, failureReason: nil,
                        history: [.init(status: .pending, at: createdAt)]
                    )
                )
            }
        }
        try await outbox.enqueue(placed, in: transaction)
        return placements
    }

    /// Applies `event` to the order `orderID` under a row lock: moves it if the state machine says
    /// so, journals the event either way, and emits the outcome when the order enters a terminal status.
    ///
    /// Idempotent in effect: a duplicate finds the order already moved and is journaled as ignored.
    /// An unknown order is journaled as ignored too (the saga never refers to orders that do not exist).
    ///
    /// Returns ``Transition/deferred(_:)`` without changing anything when the state machine defers the
    /// event; the caller then has it retried through the tiers.
    @discardableResult
    public func apply(
        _ event: OrderEvent, toOrder orderID: String, eventID: String, traceparent: String?, in transaction: PostgresTransaction,
        logger: Logger
    ) async throws -> Transition {
        guard let id = UUID(uuidString: orderID), let order = try await store.lock(id: id, in: transaction) else {
            let transition = Transition.ignored("no order \(orderID)")
            logger.warning("event for an unknown order ignored", metadata: ["event.type": "\(event.name)"])
            try await store.journal(orderID: orderID, eventID: eventID, eventType: event.name, from: nil, transition: transition, in: transaction)
            return transition
        }
        return try await apply(event, to: order, eventID: eventID, traceparent: traceparent, in: transaction, logger: logger)
    }

    /// Applies `event` to an order already locked in `transaction`.
    @discardableResult
    public func apply(
        _ event: OrderEvent, to order: SagaOrder, eventID: String, traceparent: String?, in transaction: PostgresTransaction, logger: Logger
    ) async throws -> Transition {
        let transition = OrderStateMachine.apply(event, to: order.status)
        // Nothing is written for a deferred event: it comes back through a retry tier.
        if case .deferred = transition { return transition }
        try await store.journal(
            orderID: order.id.uuidString.lowercased(), eventID: eventID, eventType: event.name, from: order.status, transition: transition,
            in: transaction
        )
        switch transition {
        case .deferred:
            break
        case .ignored(let reason):
            logger.info(
                "event ignored", metadata: ["event.type": "\(event.name)", "order.status": "\(order.status.rawValue)", "reason": "\(reason)"])
        case .moved(let status):
            var moved = order
            moved.status = status
            moved.failureReason = OrderStateMachine.failureReason(after: event, previous: order.failureReason)
            if case .paymentSucceeded(let paymentID) = event { moved.paymentID = paymentID }
            try await store.move(moved, to: status, in: transaction)
            if let outcome = try events.outcome(of: moved, traceparent: traceparent) {
                try await outbox.enqueue([outcome], in: transaction)
                Counter(label: "orderly_orders_outcome_total", dimensions: [("status", status.rawValue)]).increment()
            }
            logger.info(
                "order moved",
                metadata: ["event.type": "\(event.name)", "order.from": "\(order.status.rawValue)", "order.status": "\(status.rawValue)"]
            )
        }
        return transition
    }
}
