import Postgres

/// The SQL of inventory, on the tables of one schema.
///
/// Every method runs inside the caller's transaction. Row locks are taken in a fixed order — the
/// order row first, then stock rows sorted by SKU — so concurrent handlers queue behind each
/// other instead of deadlocking, and the stock checked is the stock changed.
public struct InventoryStore: Sendable, Hashable {
    public let schema: String

    public init(schema: String) {
        self.schema = schema
    }

    // MARK: Orders

    /// Creates the order's row if needed and locks it until the transaction ends.
    ///
    /// Every handler about an order starts here, which serialises `payment.succeeded` and
    /// `order.cancelled` of one order: whichever commits second sees what the first did.
    public func lockOrder(_ orderID: String, in transaction: PostgresTransaction) async throws -> InventoryOrder {
        try await transaction.execute("INSERT INTO \(identifier: schema).orders (order_id) VALUES (\(orderID)) ON CONFLICT DO NOTHING")
        let row = try await transaction.query(
            """
            SELECT reservation, cancelled_at IS NOT NULL AS cancelled, released_at IS NOT NULL AS released
            FROM \(identifier: schema).orders WHERE order_id = \(orderID) FOR UPDATE
            """
        )[0]
        return InventoryOrder(
            orderID: orderID,
            reservation: try row.decode(String?.self, "reservation").flatMap(InventoryOrder.Reservation.init(rawValue:)),
            cancelled: try row.decode(Bool.self, "cancelled"),
            released: try row.decode(Bool.self, "released")
        )
    }

    /// Remembers that the order was cancelled, so that a later `payment.succeeded` reserves nothing.
    public func markCancelled(_ orderID: String, in transaction: PostgresTransaction) async throws {
        try await transaction.execute(
            "UPDATE \(identifier: schema).orders SET cancelled_at = coalesce(cancelled_at, now()) WHERE order_id = \(orderID)"
        )
    }

    /// Records that nothing is held for the order and why.
    public func recordRejection(
        orderID: String, paymentID: String, missing: [String], reason: String, in transaction: PostgresTransaction
    ) async throws {
        try await transaction.execute(
            """
            UPDATE \(identifier: schema).orders
            SET reservation = 'rejected', payment_id = \(paymentID), missing = \(missing)::text[], reason = \(reason), decided_at = now()
            WHERE order_id = \(orderID)
            """
        )
    }

    // MARK: Stock

    /// Locks the stock rows of `skus` in SKU order and returns what is available of each.
    ///
    /// A SKU without a row is absent from the result (it counts as 0 available).
    public func lockAvailable(_ skus: [String], in transaction: PostgresTransaction) async throws -> [String: Int] {
        let rows = try await transaction.query(
            "SELECT sku, available FROM \(identifier: schema).stock WHERE sku = ANY(\(skus.sorted())::text[]) ORDER BY sku FOR UPDATE"
        )
        var available: [String: Int] = [:]
        for row in rows { available[try row.decode(String.self, "sku")] = try row.decode(Int.self, "available") }
        return available
    }

    /// Moves the held quantities from available to reserved and records them against the order.
    ///
    /// The caller locked the rows with ``lockAvailable(_:in:)`` and decided that every hold fits;
    /// the table's checks refuse a negative stock anyway.
    public func reserve(_ holds: [StockHold], orderID: String, paymentID: String, in transaction: PostgresTransaction) async throws {
        let skus = holds.map(\.sku)
        let quantities = holds.map(\.quantity)
        try await transaction.execute(
            """
            UPDATE \(identifier: schema).stock s
            SET available = s.available - h.quantity, reserved = s.reserved + h.quantity, updated_at = now()
            FROM unnest(\(skus)::text[], \(quantities)::bigint[]) AS h(sku, quantity)
            WHERE s.sku = h.sku
            """
        )
        try await transaction.execute(
            """
            INSERT INTO \(identifier: schema).reservations (order_id, sku, quantity)
            SELECT \(orderID), h.sku, h.quantity FROM unnest(\(skus)::text[], \(quantities)::bigint[]) AS h(sku, quantity)
            """
        )
        try await transaction.execute(
            """
            UPDATE \(identifier: schema).orders SET reservation = 'reserved', payment_id = \(paymentID), decided_at = now()
            WHERE order_id = \(orderID)
            """
        )
    }

    /// Gives the order's held stock back to available, once; returns what was released.
    ///
    /// The caller holds the order's lock (``lockOrder(_:in:)``); the stock rows are locked here in
    /// SKU order before they change.
    public func release(orderID: String, in transaction: PostgresTransaction) async throws -> [StockHold] {
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
    public func lockLevel(sku: String, in transaction: PostgresTransaction) async throws -> StockLevel {
        try await transaction.execute("INSERT INTO \(identifier: schema).stock (sku) VALUES (\(sku)) ON CONFLICT DO NOTHING")
        let row = try await transaction.query(
            "SELECT available, reserved FROM \(identifier: schema).stock WHERE sku = \(sku) FOR UPDATE"
        )[0]
        return StockLevel(sku: sku, available: try row.decode(Int.self, "available"), reserved: try row.decode(Int.self, "reserved"))
    }

    /// Stores the adjusted level and logs the adjustment with the event that caused it.
    public func applyAdjustment(
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
    public func level(sku: String, on pool: PostgresPool) async throws -> StockLevel? {
        let rows = try await pool.query("SELECT available, reserved FROM \(identifier: schema).stock WHERE sku = \(sku)")
        return try rows.first.map {
            StockLevel(sku: sku, available: try $0.decode(Int.self, "available"), reserved: try $0.decode(Int.self, "reserved"))
        }
    }
}
