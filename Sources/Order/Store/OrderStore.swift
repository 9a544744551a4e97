import Contracts
import Foundation
import Messaging
import Postgres
import Timing

/// The orders of one schema: creating them idempotently, reading them, and moving them under a row lock.
///
/// Every method that takes a transaction does its work in it, so the caller commits the order's
/// change together with its inbox record and outbox events.
package struct OrderStore: Sendable, Hashable {
    package let schema: String

    package init(schema: String) {
        self.schema = schema
    }

    /// What ``insert(_:in:)`` found.
    package enum InsertOutcome: Sendable, Hashable {
        /// The order is new and was stored in `PENDING`, at `createdAt`.
        case created(createdAt: Date)
        /// An order with the same idempotency key (or source event) exists; `sameRequest` tells
        /// whether it was made from the same request.
        case existing(id: OrderID, sameRequest: Bool)
    }

    /// Stores a new order in `PENDING` with its lines and first history entry, unless its
    /// idempotency key or source event id is taken.
    ///
    /// Concurrent inserts with one key serialize on the unique index: the losers wait for the
    /// winner's commit and then find its order.
    package func insert(_ order: NewOrder, in transaction: PostgresTransaction) async throws -> InsertOutcome {
        try await insert([order], in: transaction)[0]
    }

    /// Stores several new orders with one statement per table, each unless its key or source event is
    /// taken (also by another order of the same call: the first one wins). Outcomes in the order given.
    package func insert(_ orders: [NewOrder], in transaction: PostgresTransaction) async throws -> [InsertOutcome] {
        guard !orders.isEmpty else { return [] }
        let keys = orders.map { order -> (key: String?, event: String?) in
            switch order.origin {
            case .http(let key): (key, nil)
            case .ingress(let eventID): (nil, eventID)
            }
        }
        let canonical = orders.map(\.canonicalRequest)
        let deadlines = orders.map(\.sagaDeadline.seconds)
        let inserted = try await transaction.query(
            """
            INSERT INTO \(identifier: schema).orders
                (id, status, customer_id, customer_email, currency, total_cents, traceparent,
                 idempotency_key, request_hash, source_event_id, created_at, updated_at, deadline)
            SELECT o.id, \(OrderStatus.pending.rawValue), o.customer_id, o.customer_email, o.currency, o.total_cents, o.traceparent,
                   o.idempotency_key, encode(sha256(convert_to(o.canonical, 'UTF8')), 'hex'), o.source_event_id,
                   clock_timestamp(), clock_timestamp(), clock_timestamp() + make_interval(secs => o.deadline)
            FROM unnest(\(orders.map(\.id))::uuid[], \(orders.map(\.request.customer.id))::text[], \(orders.map(\.request.customer.email))::text[],
                        \(orders.map(\.request.currency))::text[], \(orders.map(\.request.totalCents))::bigint[],
                        \(orders.map(\.traceparent.description))::text[], \(keys.map(\.key))::text[], \(canonical)::text[],
                        \(keys.map(\.event))::text[], \(deadlines)::float8[])
                 AS o (id, customer_id, customer_email, currency, total_cents, traceparent, idempotency_key, canonical, source_event_id, deadline)
            ON CONFLICT DO NOTHING
            RETURNING id, created_at
            """
        )
        var created: [OrderID: Date] = [:]
        for row in inserted { created[try row.decode(OrderID.self, "id")] = try row.decode(Date.self, "created_at") }
        let stored = orders.filter { created[$0.id] != nil }
        if !stored.isEmpty {
            // Nothing is read back from these two: they travel with the next round trip.
            let lines = stored.flatMap { order in order.request.items.enumerated().map { (order.id, $0.offset, $0.element) } }
            transaction.sendWithNext(
                """
                INSERT INTO \(identifier: schema).order_lines (order_id, position, sku, quantity, unit_price_cents)
                SELECT * FROM unnest(\(lines.map(\.0))::uuid[], \(lines.map(\.1))::int[], \(lines.map(\.2.sku))::text[],
                                     \(lines.map(\.2.quantity))::int[], \(lines.map(\.2.unitPriceCents))::bigint[])
                """
            )
            transaction.sendWithNext(
                """
                INSERT INTO \(identifier: schema).order_history (order_id, status, at)
                SELECT id, \(OrderStatus.pending.rawValue), at FROM unnest(\(stored.map(\.id))::uuid[], \(stored.map { created[$0.id]! })::timestamptz[]) AS h (id, at)
                """
            )
        }
        // The rest found an order with their key or source event: which one, and whether it was made from the same request.
        let rejected = orders.indices.filter { created[orders[$0].id] == nil }
        var existing: [Int: (id: OrderID, sameRequest: Bool)] = [:]
        if !rejected.isEmpty {
            let rows = try await transaction.query(
                """
                SELECT r.position, o.id, o.request_hash = encode(sha256(convert_to(r.canonical, 'UTF8')), 'hex') AS same_request
                FROM unnest(\(rejected)::int[], \(rejected.map { keys[$0].key })::text[], \(rejected.map { keys[$0].event })::text[],
                            \(rejected.map { canonical[$0] })::text[]) AS r (position, idempotency_key, source_event_id, canonical)
                JOIN \(identifier: schema).orders o ON o.idempotency_key = r.idempotency_key OR o.source_event_id = r.source_event_id
                """
            )
            for row in rows {
                existing[try row.decode(Int.self, "position")] = (
                    try row.decode(OrderID.self, "id"), try row.decode(Bool?.self, "same_request") ?? false
                )
            }
        }
        return try orders.indices.map { index in
            if let at = created[orders[index].id] { return .created(createdAt: at) }
            guard let winner = existing[index] else {
                // Only a colliding random order id could get here.
                throw PostgresError(code: .client, message: "order \(orders[index].id) conflicts with an existing order but none was found")
            }
            return .existing(id: winner.id, sameRequest: winner.sameRequest)
        }
    }

    /// The order with this id, or `nil`.
    package func order(id: OrderID, on pool: PostgresPool) async throws -> Order? {
        try await pool.withConnection { connection in
            try await orders(where: "o.id = \(id)::uuid", limit: 1, on: connection).first
        }
    }

    /// The order with this id, read in `transaction`, or `nil`.
    package func order(id: OrderID, in transaction: PostgresTransaction) async throws -> Order? {
        try await orders(where: "o.id = \(id)::uuid", limit: 1, on: transaction.connection).first
    }

    /// The orders that match `query`, newest first.
    package func orders(matching query: OrderListQuery, on pool: PostgresPool) async throws -> [Order] {
        let customerID = query.customerID
        let status = query.status?.rawValue
        return try await pool.withConnection { connection in
            try await orders(
                where: "(\(customerID)::text IS NULL OR o.customer_id = \(customerID)) AND (\(status)::text IS NULL OR o.status = \(status))",
                limit: query.limit, on: connection
            )
        }
    }

    /// Reads orders with their lines and history; `condition` is a trusted fragment on alias `o`.
    private func orders(where condition: PostgresQuery, limit: Int, on connection: PostgresConnection) async throws -> [Order] {
        var query = PostgresQuery(
            unsafeSQL: """
                SELECT o.id, o.status, o.currency, o.total_cents, o.customer_id, o.customer_email, o.payment_id, o.failure_reason
                FROM \(PostgresQuery.quoteIdentifier(schema)).orders o
                WHERE
                """
        )
        // Append the condition with its parameters renumbered after ours (there are none before it).
        query.sql += " " + condition.sql + " ORDER BY o.created_at DESC, o.id DESC LIMIT $\(condition.parameters.count + 1)"
        query.parameters = condition.parameters + [String(limit)]
        let heads = try await connection.query(query)
        guard !heads.isEmpty else { return [] }
        let ids = try heads.map { try $0.decode(OrderID.self, "id") }
        let lineRows = try await connection.query(
            """
            SELECT order_id, sku, quantity, unit_price_cents FROM \(identifier: schema).order_lines
            WHERE order_id = ANY(\(ids)::uuid[]) ORDER BY order_id, position
            """
        )
        let historyRows = try await connection.query(
            """
            SELECT order_id, status, at FROM \(identifier: schema).order_history
            WHERE order_id = ANY(\(ids)::uuid[]) ORDER BY order_id, id
            """
        )
        var lines: [OrderID: [OrderLine]] = [:]
        for row in lineRows {
            let line = OrderLine(
                sku: try row.decode(String.self, "sku"), quantity: try row.decode(Int.self, "quantity"),
                unitPriceCents: try row.decode(Int.self, "unit_price_cents")
            )
            lines[try row.decode(OrderID.self, "order_id"), default: []].append(line)
        }
        var history: [OrderID: [Order.HistoryEntry]] = [:]
        for row in historyRows {
            let entry = Order.HistoryEntry(status: try row.decode(OrderStatus.self, "status"), at: try row.decode(Date.self, "at"))
            history[try row.decode(OrderID.self, "order_id"), default: []].append(entry)
        }
        return try heads.map { row in
            let id = try row.decode(OrderID.self, "id")
            return Order(
                id: id, status: try row.decode(OrderStatus.self, "status"), currency: try row.decode(String.self, "currency"),
                totalCents: try row.decode(Int.self, "total_cents"),
                customer: Customer(id: try row.decode(String.self, "customer_id"), email: try row.decode(String.self, "customer_email")),
                items: lines[id] ?? [], paymentID: try row.decode(String?.self, "payment_id"),
                failureReason: try row.decode(String?.self, "failure_reason"), history: history[id] ?? []
            )
        }
    }

    /// The saga state of an order, locked (`FOR UPDATE`) until `transaction` ends; `nil` for an unknown order.
    /// How many orders are open: accepted, and not yet completed, failed or cancelled.
    ///
    /// An open order is one with a saga deadline, so this counts the entries of a small partial index.
    package func openOrderCount(on pool: PostgresPool) async throws -> Int {
        try await pool.query("SELECT count(*) AS n FROM \(identifier: schema).orders WHERE deadline IS NOT NULL")[0].decode(Int.self, "n")
    }

    package func lock(id: OrderID, in transaction: PostgresTransaction) async throws -> SagaOrder? {
        try await lock(ids: [id], in: transaction)[id]
    }

    /// The saga state of several orders, locked in id order (so that two batches cannot deadlock) until
    /// `transaction` ends; unknown orders are left out.
    package func lock(ids: [OrderID], in transaction: PostgresTransaction) async throws -> [OrderID: SagaOrder] {
        let rows = try await transaction.query(
            """
            SELECT \(unescaped: SagaOrder.columns) FROM \(identifier: schema).orders WHERE id = ANY(\(ids)::uuid[]) ORDER BY id FOR UPDATE
            """
        )
        return Dictionary(
            uniqueKeysWithValues: try rows.map { row in
                let order = try SagaOrder(row: row)
                return (order.id, order)
            })
    }

    /// Open orders past their deadline, oldest deadline first, locked; rows other transactions hold are skipped.
    package func lockExpired(limit: Int, in transaction: PostgresTransaction) async throws -> [SagaOrder] {
        try await transaction.query(
            """
            SELECT \(unescaped: SagaOrder.columns) FROM \(identifier: schema).orders
            WHERE deadline <= clock_timestamp() AND status IN (\(unescaped: Self.openStatusList))
            ORDER BY deadline LIMIT \(limit)
            FOR UPDATE SKIP LOCKED
            """
        ).map(SagaOrder.init(row:))
    }

    /// The open statuses as SQL literals.
    static let openStatusList = OrderStatus.open.map { "'\($0.rawValue)'" }.joined(separator: ", ")
    /// The terminal statuses as SQL literals.
    static let terminalStatusList = OrderStatus.allCases.filter(\.isTerminal).map { "'\($0.rawValue)'" }.joined(separator: ", ")

    /// Moves locked orders to their new `status`, with payment ids and failure reasons, and records the
    /// history entries, with one statement sent with the next round trip. An order that ends has no deadline any more.
    package func move(_ orders: [SagaOrder], in transaction: PostgresTransaction) {
        guard !orders.isEmpty else { return }
        transaction.sendWithNext(
            """
            WITH moved AS (
                UPDATE \(identifier: schema).orders o
                SET status = m.status, payment_id = m.payment_id, failure_reason = m.failure_reason, updated_at = clock_timestamp(),
                    deadline = CASE WHEN m.status IN (\(unescaped: Self.terminalStatusList)) THEN NULL ELSE o.deadline END
                FROM unnest(\(orders.map(\.id))::uuid[], \(orders.map(\.status.rawValue))::text[], \(orders.map(\.paymentID))::text[],
                            \(orders.map(\.failureReason))::text[]) AS m (id, status, payment_id, failure_reason)
                WHERE o.id = m.id
                RETURNING o.id, o.status, o.updated_at
            )
            INSERT INTO \(identifier: schema).order_history (order_id, status, at)
            SELECT id, status, updated_at FROM moved
            """
        )
    }

    /// One line of an order's journal, which is also its timeline: an event order-service handled (and what
    /// it did to the order, or why it did nothing), or an event it emitted about the order.
    package struct JournalEntry: Sendable, Hashable {
        /// What the event was to the order.
        package enum Kind: Sendable, Hashable {
            /// Handled by order-service: the order moved, or the event was ignored (why).
            case applied(Transition)
            /// Emitted by order-service, with the order in `status`.
            case emitted(status: OrderStatus)
        }

        package var orderID: String
        package var eventID: String
        package var eventType: String
        /// The order's status before the event; `nil` for an event about an unknown order, or an emitted one.
        package var from: OrderStatus?
        package var kind: Kind
        /// The event's CloudEvents `source`: who emitted it.
        package var source: String?
        /// When it was emitted (its CloudEvents `time`).
        package var eventTime: Date?
        /// Its W3C trace context.
        package var traceparent: String?

        package init(
            orderID: String, eventID: String, eventType: String, from: OrderStatus?, transition: Transition, source: String? = nil,
            eventTime: Date? = nil, traceparent: String? = nil
        ) {
            self.orderID = orderID
            self.eventID = eventID
            self.eventType = eventType
            self.from = from
            self.kind = .applied(transition)
            self.source = source
            self.eventTime = eventTime
            self.traceparent = traceparent
        }

        /// An event order-service emits about `orderID`, which leaves the order in `status`.
        package init(emitted event: CloudEvent, orderID: String, status: OrderStatus) {
            self.orderID = orderID
            eventID = event.id
            eventType = event.type
            from = nil
            kind = .emitted(status: status)
            source = event.source
            eventTime = event.time
            traceparent = event.traceparent
        }
    }

    /// Journals several entries with one statement, sent with the transaction's next round trip.
    package func journal(_ entries: [JournalEntry], in transaction: PostgresTransaction) {
        guard !entries.isEmpty else { return }
        let columns = entries.map { entry -> (outcome: OrderTimeline.Outcome, to: String?, reason: String?) in
            switch entry.kind {
            case .applied(.moved(let status)): (.moved, status.rawValue, nil)
            case .applied(.ignored(let reason)), .applied(.deferred(let reason)): (.ignored, nil, reason)
            case .emitted(let status): (.emitted, status.rawValue, nil)
            }
        }
        transaction.sendWithNext(
            """
            INSERT INTO \(identifier: schema).order_events
                (order_id, event_id, event_type, outcome, from_status, to_status, reason, source, event_time, traceparent)
            SELECT * FROM unnest(\(entries.map(\.orderID))::text[], \(entries.map(\.eventID))::text[], \(entries.map(\.eventType))::text[],
                                 \(columns.map(\.outcome))::text[], \(entries.map { $0.from?.rawValue })::text[], \(columns.map(\.to))::text[],
                                 \(columns.map(\.reason))::text[], \(entries.map(\.source))::text[], \(entries.map(\.eventTime))::timestamptz[],
                                 \(entries.map(\.traceparent))::text[])
            """
        )
    }

    /// The journal of an order, oldest first, with the order's status and trace context; `nil` for an unknown order.
    ///
    /// Entries are in the order they were written: an order's events are journaled under its row lock, so
    /// this is the order in which order-service handled and emitted them.
    package func timeline(of id: OrderID, on pool: PostgresPool) async throws -> OrderTimeline? {
        try await pool.withConnection { connection in
            let heads = try await connection.query(
                "SELECT status, traceparent, created_at FROM \(identifier: schema).orders WHERE id = \(id)::uuid")
            guard let head = heads.first else { return nil }
            let rows = try await connection.query(
                """
                SELECT event_id, event_type, outcome, from_status, to_status, reason, source, event_time, traceparent, at
                FROM \(identifier: schema).order_events WHERE order_id = \(id.description) ORDER BY id
                """
            )
            let records = try rows.map { row in
                OrderTimeline.Record(
                    eventID: try row.decode(String.self, "event_id"), eventType: try row.decode(String.self, "event_type"),
                    outcome: try row.decode(OrderTimeline.Outcome.self, "outcome"), from: try row.decode(OrderStatus?.self, "from_status"),
                    to: try row.decode(OrderStatus?.self, "to_status"), reason: try row.decode(String?.self, "reason"),
                    source: try row.decode(String?.self, "source"), eventTime: try row.decode(Date?.self, "event_time"),
                    traceparent: try row.decode(String?.self, "traceparent"), recordedAt: try row.decode(Date.self, "at"))
            }
            return OrderTimeline(
                orderID: id, status: try head.decode(OrderStatus.self, "status"), traceparent: try head.decode(String.self, "traceparent"),
                createdAt: try head.decode(Date.self, "created_at"), records: records)
        }
    }
}

extension OrderStatus: PostgresDecodable {}

extension OrderTimeline.Outcome: PostgresEncodable, PostgresDecodable {}
