import Postgres

/// The SQL of inventory, on the tables of one schema.
///
/// Every method runs inside the caller's transaction. Row locks are taken in a fixed order — the
/// order row first, then stock rows sorted by SKU — so concurrent handlers queue behind each
/// other instead of deadlocking, and the stock checked is the stock changed.
package struct InventoryStore: Sendable, Hashable {
    package let schema: String

    package init(schema: String) {
        self.schema = schema
    }

    // MARK: Orders

    /// Creates the order's row if needed and locks it until the transaction ends.
    ///
    /// Every handler about an order starts here, which serialises `payment.succeeded` and
    /// `order.cancelled` of one order: whichever commits second sees what the first did.
    package func lockOrder(_ orderID: String, in transaction: PostgresTransaction) async throws -> InventoryOrder {
        try await lockOrders([orderID], in: transaction)[orderID]!
    }

    /// Creates the orders' rows where needed and locks them, in order id order, with one statement.
    ///
    /// The no-op update on conflict is what locks an existing row and returns it as it stands.
    package func lockOrders(_ orderIDs: [String], in transaction: PostgresTransaction) async throws -> [String: InventoryOrder] {
        let ids = Array(Set(orderIDs)).sorted()
        guard !ids.isEmpty else { return [:] }
        let rows = try await transaction.query(
            """
            INSERT INTO \(identifier: schema).orders AS o (order_id)
            SELECT id FROM unnest(\(ids)::text[]) AS id ORDER BY id
            ON CONFLICT (order_id) DO UPDATE SET order_id = o.order_id
            RETURNING o.order_id, o.reservation, o.cancelled_at IS NOT NULL AS cancelled, o.released_at IS NOT NULL AS released
            """
        )
        var orders: [String: InventoryOrder] = [:]
        for row in rows {
            let orderID = try row.decode(String.self, "order_id")
            orders[orderID] = InventoryOrder(
                orderID: orderID,
                reservation: try row.decode(String?.self, "reservation").flatMap(InventoryOrder.Reservation.init(rawValue:)),
                cancelled: try row.decode(Bool.self, "cancelled"),
                released: try row.decode(Bool.self, "released")
            )
        }
        return orders
    }

    /// Remembers that the order was cancelled, so that a later `payment.succeeded` reserves nothing.
    package func markCancelled(_ orderID: String, in transaction: PostgresTransaction) async throws {
        try await transaction.execute(
            "UPDATE \(identifier: schema).orders SET cancelled_at = coalesce(cancelled_at, now()) WHERE order_id = \(orderID)"
        )
    }

    // MARK: Stock

    /// Locks the stock rows of `skus` in SKU order and returns what is available of each.
    ///
    /// A SKU without a row is absent from the result (it counts as 0 available).
    package func lockAvailable(_ skus: [String], in transaction: PostgresTransaction) async throws -> [String: Int] {
        let rows = try await transaction.query(
            "SELECT sku, available FROM \(identifier: schema).stock WHERE sku = ANY(\(skus.sorted())::text[]) ORDER BY sku FOR UPDATE"
        )
        var available: [String: Int] = [:]
        for row in rows { available[try row.decode(String.self, "sku")] = try row.decode(Int.self, "available") }
        return available
    }

    /// Applies decided reservations with three statements sent with the next round trip: the held quantities
    /// move from available to reserved, the holds are recorded against their orders, and every order
    /// remembers its decision (a rejection with what was missing and why).
    ///
    /// The caller locked the orders (``lockOrders(_:in:)``) and the stock rows
    /// (``lockAvailable(_:in:)``) and decided in turn that every hold fits; the table's checks refuse a
    /// negative stock anyway.
    package func record(_ decisions: [ReservationRecord], in transaction: PostgresTransaction) {
        guard !decisions.isEmpty else { return }
        var held: [String: Int] = [:]
        var holds: [(orderID: String, hold: StockHold)] = []
        for record in decisions {
            guard case .reserve(let reserved) = record.decision else { continue }
            for hold in reserved {
                held[hold.sku, default: 0] += hold.quantity
                holds.append((record.orderID, hold))
            }
        }
        if !held.isEmpty {
            let skus = held.keys.sorted()
            transaction.sendWithNext(
                """
                UPDATE \(identifier: schema).stock s
                SET available = s.available - h.quantity, reserved = s.reserved + h.quantity, updated_at = now()
                FROM unnest(\(skus)::text[], \(skus.map { held[$0]! })::bigint[]) AS h(sku, quantity)
                WHERE s.sku = h.sku
                """
            )
            transaction.sendWithNext(
                """
                INSERT INTO \(identifier: schema).reservations (order_id, sku, quantity)
                SELECT * FROM unnest(\(holds.map(\.orderID))::text[], \(holds.map(\.hold.sku))::text[], \(holds.map(\.hold.quantity))::bigint[])
                """
            )
        }
        let missing = decisions.flatMap { record -> [(orderID: String, sku: String)] in
            guard case .reject(let missing, _) = record.decision else { return [] }
            return missing.map { (record.orderID, $0) }
        }
        transaction.sendWithNext(
            """
            UPDATE \(identifier: schema).orders o
            SET reservation = d.reservation, payment_id = d.payment_id, decided_at = now(), reason = d.reason,
                missing = CASE WHEN d.reservation = 'rejected' THEN ARRAY(
                    SELECT m.sku FROM unnest(\(missing.map(\.orderID))::text[], \(missing.map(\.sku))::text[]) WITH ORDINALITY AS m (order_id, sku, n)
                    WHERE m.order_id = o.order_id ORDER BY m.n) END
            FROM unnest(\(decisions.map(\.orderID))::text[], \(decisions.map(\.paymentID))::text[],
                        \(decisions.map(\.decision.reservation.rawValue))::text[], \(decisions.map(\.decision.reason))::text[])
                 AS d (order_id, payment_id, reservation, reason)
            WHERE o.order_id = d.order_id
            """
        )
    }

    /// Gives the order's held stock back to available, once; returns what was released.
    ///
    /// The caller holds the order's lock (``lockOrder(_:in:)``); the stock rows are locked here in
    /// SKU order before they change.
    package func release(orderID: String, in transaction: PostgresTransaction) async throws -> [StockHold] {
        let rows = try await transaction.query(
            "SELECT sku, quantity FROM \(identifier: schema).reservations WHERE order_id = \(orderID) ORDER BY sku"
        )
        let holds = try rows.map { StockHold(sku: try $0.decode(String.self, "sku"), quantity: try $0.decode(Int.self, "quantity")) }
        guard !holds.isEmpty else { return [] }
        _ = try await lockAvailable(holds.map(\.sku), in: transaction)
        try await transaction.execute(
            """
            UPDATE \(identifier: schema).stock s
            SET available = s.available + r.quantity, reserved = s.reserved - r.quantity, updated_at = now()
            FROM \(identifier: schema).reservations r
            WHERE r.order_id = \(orderID) AND s.sku = r.sku
            """
        )
        try await transaction.execute("UPDATE \(identifier: schema).orders SET released_at = now() WHERE order_id = \(orderID)")
        return holds
    }

    /// Creates the SKU's row (at zero) if needed, locks it and returns its level.
    package func lockLevel(sku: String, in transaction: PostgresTransaction) async throws -> StockLevel {
        try await transaction.execute("INSERT INTO \(identifier: schema).stock (sku) VALUES (\(sku)) ON CONFLICT DO NOTHING")
        let row = try await transaction.query(
            "SELECT available, reserved FROM \(identifier: schema).stock WHERE sku = \(sku) FOR UPDATE"
        )[0]
        return StockLevel(sku: sku, available: try row.decode(Int.self, "available"), reserved: try row.decode(Int.self, "reserved"))
    }

    /// Stores the adjusted level and logs the adjustment with the event that caused it.
    package func applyAdjustment(
        _ level: StockLevel, delta: Int, reason: String, eventID: String, in transaction: PostgresTransaction
    ) async throws {
        try await transaction.execute(
            "UPDATE \(identifier: schema).stock SET available = \(level.available), updated_at = now() WHERE sku = \(level.sku)"
        )
        try await transaction.execute(
            """
            INSERT INTO \(identifier: schema).adjustments (event_id, sku, delta, reason, available_after)
            VALUES (\(eventID), \(level.sku), \(delta), \(reason), \(level.available))
            """
        )
    }

    /// The stock of a SKU, or `nil` when the SKU was never stocked.
    package func level(sku: String, on pool: PostgresPool) async throws -> StockLevel? {
        let rows = try await pool.query("SELECT available, reserved FROM \(identifier: schema).stock WHERE sku = \(sku)")
        return try rows.first.map {
            StockLevel(sku: sku, available: try $0.decode(Int.self, "available"), reserved: try $0.decode(Int.self, "reserved"))
        }
    }
}
