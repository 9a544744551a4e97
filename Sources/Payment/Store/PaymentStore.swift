import Postgres

/// payment-service's state in its schema; every call runs in the caller's transaction.
package struct PaymentStore: Sendable {
    package let schema: String

    package init(schema: String) { self.schema = schema }

    /// Serializes the handlers of one order until the transaction ends, so that a charge being
    /// recorded and a cancellation being recorded never miss each other.
    package func lock(orderID: String, in transaction: PostgresTransaction) async throws {
        let key = "\(schema):\(orderID)"
        _ = try await transaction.query("SELECT pg_advisory_xact_lock(hashtextextended(\(key), 0))")
    }

    /// Serializes the handlers of several orders at once, taking their locks in one order so that two
    /// batches cannot deadlock on them.
    package func lock(orderIDs: [String], in transaction: PostgresTransaction) async throws {
        let keys = Set(orderIDs).map { "\(schema):\($0)" }
        _ = try await transaction.query(
            "SELECT pg_advisory_xact_lock(hashtextextended(key, 0)) FROM unnest(\(keys)::text[]) AS key ORDER BY key")
    }

    /// What is known about an order (each statement sees what committed before it began).
    package func state(of orderID: String, in transaction: PostgresTransaction) async throws -> OrderPaymentState {
        try await states(of: [orderID], in: transaction)[orderID] ?? OrderPaymentState()
    }

    /// What is known about each of several orders, with one statement.
    package func states(of orderIDs: [String], in transaction: PostgresTransaction) async throws -> [String: OrderPaymentState] {
        let rows = try await transaction.query(
            """
            SELECT o.order_id, c.charge_id, c.status, c.amount_cents, c.currency, r.refund_id,
                   EXISTS (SELECT 1 FROM \(identifier: schema).cancellations x WHERE x.order_id = o.order_id) AS cancelled
            FROM unnest(\(orderIDs)::text[]) AS o (order_id)
            LEFT JOIN \(identifier: schema).charges c ON c.order_id = o.order_id
            LEFT JOIN \(identifier: schema).refunds r ON r.charge_id = c.charge_id
            """
        )
        var states: [String: OrderPaymentState] = [:]
        for row in rows {
            var state = OrderPaymentState(cancelled: try row.decode(Bool.self, "cancelled"))
            if !row.isNull("status") {
                state.charge = OrderPaymentState.Charge(
                    chargeID: try row.decode(String?.self, "charge_id"), status: try row.decode(ChargeStatus.self, "status"),
                    amountCents: try row.decode(Int.self, "amount_cents"), currency: try row.decode(String.self, "currency")
                )
            }
            state.refundID = try row.decode(String?.self, "refund_id")
            states[try row.decode(String.self, "order_id")] = state
        }
        return states
    }

    /// One decided charge, for ``recordCharges(_:in:)``.
    package struct ChargeRecord: Sendable, Hashable {
        package var orderID: String
        package var chargeID: String?
        package var status: ChargeStatus
        package var amountCents: Int
        package var currency: String
        package var reason: String?

        package init(orderID: String, chargeID: String?, status: ChargeStatus, amountCents: Int, currency: String, reason: String?) {
            self.orderID = orderID
            self.chargeID = chargeID
            self.status = status
            self.amountCents = amountCents
            self.currency = currency
            self.reason = reason
        }
    }

    /// Records several decided charges with one statement, sent with the transaction's next round trip.
    package func recordCharges(_ charges: [ChargeRecord], in transaction: PostgresTransaction) {
        guard !charges.isEmpty else { return }
        transaction.sendWithNext(insert(charges))
    }

    /// Records the decided charge of an order now, so that a refund recorded after it in the same
    /// transaction finds it.
    package func recordCharge(
        orderID: String, chargeID: String?, status: ChargeStatus, amountCents: Int, currency: String, reason: String?,
        in transaction: PostgresTransaction
    ) async throws {
        try await transaction.execute(
            insert([ChargeRecord(orderID: orderID, chargeID: chargeID, status: status, amountCents: amountCents, currency: currency, reason: reason)])
        )
    }

    private func insert(_ charges: [ChargeRecord]) -> PostgresQuery {
        """
        INSERT INTO \(identifier: schema).charges (order_id, charge_id, status, amount_cents, currency, reason)
        SELECT * FROM unnest(\(charges.map(\.orderID))::text[], \(charges.map(\.chargeID))::text[], \(charges.map(\.status))::text[],
                             \(charges.map(\.amountCents))::bigint[], \(charges.map(\.currency))::text[], \(charges.map(\.reason))::text[])
        """
    }

    /// Records the refund of a charge; false when the charge had one already.
    package func recordRefund(
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
    package func recordCancellation(orderID: String, reason: String?, in transaction: PostgresTransaction) async throws {
        try await transaction.execute(
            """
            INSERT INTO \(identifier: schema).cancellations (order_id, reason) VALUES (\(orderID), \(reason))
            ON CONFLICT (order_id) DO NOTHING
            """
        )
    }
}

extension ChargeStatus: PostgresEncodable, PostgresDecodable {}
