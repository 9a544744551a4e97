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
package struct OrderSaga: Sendable {
    package let store: OrderStore
    package let outbox: Outbox
    package let events: OrderEvents

    /// - Parameter dispatch: where the events of committed transactions go at once (see ``OutboxDispatch``); without
    ///   one, the relay publishes them.
    package init(schema: String, events: OrderEvents, dispatch: OutboxDispatch? = nil) {
        self.store = OrderStore(schema: schema)
        self.outbox = Outbox(schema: schema, dispatch: dispatch)
        self.events = events
    }

    /// What ``place(_:in:)`` did.
    package enum Placement: Sendable, Hashable {
        /// A new order in `PENDING`, with `order.placed` in the outbox.
        case placed(Order)
        /// The idempotency key (or ingress event) was used before, for the same request: that order.
        case replayed(OrderID)
        /// The idempotency key was used before for a different request.
        case conflict(OrderID)
    }

    /// Stores a new order and its `order.placed` event, or finds the order its key already made.
    package func place(_ order: NewOrder, in transaction: PostgresTransaction) async throws -> Placement {
        try await place([order], in: transaction)[0]
    }

    /// Stores several new orders and their `order.placed` events with one statement per table, or finds the
    /// orders their keys already made. Placements in the order given.
    package func place(_ orders: [NewOrder], in transaction: PostgresTransaction) async throws -> [Placement] {
        let outcomes = try await store.insert(orders, in: transaction)
        var placed: [OutgoingEvent] = []
        var journal: [OrderStore.JournalEntry] = []
        let placements = try zip(orders, outcomes).map { order, outcome -> Placement in
            switch outcome {
            case .existing(let id, let sameRequest):
                return sameRequest ? .replayed(id) : .conflict(id)
            case .created(let createdAt):
                let event = try events.placed(order)
                placed.append(event)
                journal += Self.journalOfPlacement(order, placed: event.event)
                return .placed(
                    Order(
                        id: order.id, status: .pending, currency: order.request.currency, totalCents: order.request.totalCents,
                        customer: order.request.customer, items: order.request.items, paymentID: nil, failureReason: nil,
                        history: [.init(status: .pending, at: createdAt)]
                    )
                )
            }
        }
        store.journal(journal, in: transaction)
        try await outbox.enqueue(placed, in: transaction)
        return placements
    }

    /// The timeline's first entries for a new order: the `order.requested` it came from, if any, and its `order.placed`.
    static func journalOfPlacement(_ order: NewOrder, placed: CloudEvent) -> [OrderStore.JournalEntry] {
        let id = order.id.description
        var entries: [OrderStore.JournalEntry] = []
        if case .ingress(let eventID) = order.origin {
            entries.append(
                .init(
                    orderID: id, eventID: eventID, eventType: EventType.orderRequested.rawValue, from: nil, transition: .moved(to: .pending),
                    source: order.sourceEvent?.source, eventTime: order.sourceEvent?.time, traceparent: order.traceparent.description))
        }
        entries.append(.init(emitted: placed, orderID: id, status: .pending))
        return entries
    }

    /// One event to apply to the order it is about.
    package struct Application: Sendable {
        package var event: OrderEvent
        package var orderID: String
        package var eventID: String
        package var traceparent: String?
        /// Who emitted the event (its CloudEvents `source`) and when, for the order's timeline.
        package var source: String?
        package var eventTime: Date?
        package var logger: Logger

        package init(
            event: OrderEvent, orderID: String, eventID: String, traceparent: String?, source: String? = nil, eventTime: Date? = nil,
            logger: Logger
        ) {
            self.event = event
            self.orderID = orderID
            self.eventID = eventID
            self.traceparent = traceparent
            self.source = source
            self.eventTime = eventTime
            self.logger = logger
        }
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
    package func apply(
        _ event: OrderEvent, toOrder orderID: String, eventID: String, traceparent: String?, in transaction: PostgresTransaction,
        logger: Logger
    ) async throws -> Transition {
        try await apply([Application(event: event, orderID: orderID, eventID: eventID, traceparent: traceparent, logger: logger)], in: transaction)[0]
    }

    /// Applies events to the orders they are about, at most one event per order, with one statement per
    /// table: the orders locked together, moved together, journaled together (the outcomes they emit
    /// with them); outcomes emitted for those that ended. Transitions in the order given.
    @discardableResult
    package func apply(_ applications: [Application], in transaction: PostgresTransaction) async throws -> [Transition] {
        let locked = try await store.lock(ids: applications.compactMap { OrderID($0.orderID) }, in: transaction)
        var journal: [OrderStore.JournalEntry] = []
        var moved: [(SagaOrder, Application)] = []
        let transitions = applications.map { application -> Transition in
            guard let order = OrderID(application.orderID).flatMap({ locked[$0] }) else {
                let transition = Transition.ignored("no order \(application.orderID)")
                application.logger.warning("event for an unknown order ignored", metadata: ["event.type": "\(application.event.name)"])
                journal.append(application.journalEntry(orderID: application.orderID, from: nil, transition: transition))
                return transition
            }
            let transition = OrderStateMachine.apply(application.event, to: order.status)
            switch transition {
            case .deferred:
                // Nothing is written for a deferred event: it comes back through a retry tier.
                return transition
            case .ignored(let reason):
                application.logger.info(
                    "event ignored",
                    metadata: ["event.type": "\(application.event.name)", "order.status": "\(order.status.rawValue)", "reason": "\(reason)"])
            case .moved(let status):
                var next = order
                next.status = status
                next.failureReason = OrderStateMachine.failureReason(after: application.event, previous: order.failureReason)
                if case .paymentSucceeded(let paymentID) = application.event { next.paymentID = paymentID }
                moved.append((next, application))
                application.logger.info(
                    "order moved",
                    metadata: [
                        "event.type": "\(application.event.name)", "order.from": "\(order.status.rawValue)", "order.status": "\(status.rawValue)",
                    ])
            }
            journal.append(
                application.journalEntry(
                    orderID: order.id.description, from: order.status, transition: transition, traceparent: order.traceparent))
            return transition
        }
        let outcomes = try moved.compactMap { order, application in
            try events.outcome(of: order, traceparent: application.traceparent).map { (order, $0) }
        }
        journal += outcomes.map { order, outcome in
            OrderStore.JournalEntry(emitted: outcome.event, orderID: order.id.description, status: order.status)
        }
        store.journal(journal, in: transaction)
        store.move(moved.map(\.0), in: transaction)
        try await outbox.enqueue(outcomes.map(\.1), in: transaction)
        for (order, _) in moved where order.status.isTerminal { Self.outcomeCounters[order.status]?.increment() }
        return transitions
    }

    /// Made once: looking metrics up per order would cost a registry lookup on the hot path.
    static let outcomeCounters = Dictionary(
        uniqueKeysWithValues: OrderStatus.allCases.filter(\.isTerminal).map { status in
            (status, Counter(label: "orderly_orders_outcome_total", dimensions: [("status", status.rawValue)]))
        })

    /// Applies `event` to an order already locked in `transaction`.
    @discardableResult
    package func apply(
        _ event: OrderEvent, to order: SagaOrder, eventID: String, traceparent: String?, in transaction: PostgresTransaction, logger: Logger
    ) async throws -> Transition {
        try await apply(
            [Application(event: event, orderID: order.id.description, eventID: eventID, traceparent: traceparent, logger: logger)],
            in: transaction)[0]
    }
}

extension OrderSaga.Application {
    /// The journal entry of this event applied to `orderID`; an event without a trace context of its own
    /// (the deadline) is journaled with the order's, `fallback`.
    func journalEntry(orderID: String, from: OrderStatus?, transition: Transition, traceparent fallback: String? = nil) -> OrderStore.JournalEntry {
        OrderStore.JournalEntry(
            orderID: orderID, eventID: eventID, eventType: event.name, from: from, transition: transition, source: source, eventTime: eventTime,
            traceparent: traceparent ?? fallback)
    }
}
