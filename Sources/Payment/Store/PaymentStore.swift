import Postgres

/// payment-service's state in its schema; every call runs in the caller's transaction.
public struct PaymentStore: Sendable {
    public let schema: String

    public init(schema: String) { self.schema = schema }

    /// Serializes the handlers of one order until the transaction ends, so that a charge being
    /// recorded and a cancellation being recorded never miss each other.
    public func lock(orderID: String, in transaction: PostgresTransaction) async throws {
        let key = "\(schema):\(orderID)"
        _ = try await transaction.query("SELECT pg_advisory_xact_lock(hashtextextended(\(key), 0))")
    }

    /// What is known about an order (each statement sees what committed before it began).
    public func state(of orderID: String, in transaction: PostgresTransaction) async throws -> OrderPaymentState {
        let rows = try await transaction.query(
            """
            SELECT c.charge_id, c.status, c.amount_cents, c.currency, r.refund_id,
                   EXISTS (SELECT 1 FROM \(identifier: schema).cancellations x WHERE x.order_id = \(orderID)) AS cancelled
            FROM (SELECT 1) AS one
            LEFT JOIN \(identifier: schema).charges c ON c.order_id = \(orderID)
            LEFT JOIN \(identifier: schema).refunds r ON r.charge_id = c.charge_id
            """
        )
        let row = rows[0]
        var state = OrderPaymentState(cancelled: try row.decode(Bool.self, "cancelled"))
        if !row.isNull("status") {
            state.charge = OrderPaymentState.Charge(
                chargeID: try row.decode(String?.self, "charge_id"), status: try row.decode(String.self, "status"),
                amountCents: try row.decode(Int.self, "amount_cents"), currency: try row.decode(String.self, "currency")
            )
        }
        state.refundID = try row.decode(String?.self, "refund_id")
        return state
    }

    /// Records the decided charge of an order.
    public func recordCharge(
        orderID: String, chargeID: String?, status: String, amountCents: Int, currency: String, reason: String?,
        in transaction: PostgresTransaction
    ) async throws {
        try await transaction.execute(
            """
            INSERT INTO \(identifier: schema).charges (order_id, charge_id, status, amount_cents, currency, reason)
            VALUES (\(orderID), \(chargeID), \(status), \(amountCents), \(currency), \(reason))
            """
        )
    }

    /// Records the refund of a charge; false when the charge had one already.
    public func recordRefund(
        refundID: String, chargeID: String, orderID: String, amountCents: Int, currency: String, reason: String,
        in transaction: PostgresTransaction
    ) async throws -> Bool {
        try await transaction.execute(
            """
            INSERT INTO \(identifier: schema).refunds (refund_id, charge_id, order_id, amount_cents, currency, reason)
            VALUES (\(refundID), \(chargeID), \(orderID), \(amountCents), \(currency), \(reason))
            ON CONFLICT DO NOTHING
            """
        ) == 1
    }

    /// Remembers that an order was cancelled. Idempotent.
    public func recordCancellation(orderID: String, reason: String?, in transaction: PostgresTransaction) async throws {
        try await transaction.execute(
            """
            INSERT INTO \(identifier: schema).cancellations (order_id, reason) VALUES (\(orderID), \(reason))
            ON CONFLICT (order_id) DO NOTHING
            """
        )
    }
}
