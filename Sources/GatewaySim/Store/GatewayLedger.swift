import Postgres
import ServiceKit

/// The simulator's durable ledger in its own schema: charges, refunds and the attempts of flaky keys.
///
/// Idempotency rests on unique keys in the database, not on memory: two requests racing with one key
/// both try to insert, one wins, and the other reads and returns the winner's stored answer. So a key
/// always yields the same status and body, across concurrent requests and restarts.
struct GatewayLedger: Sendable {
    let schema: String
    let pool: PostgresPool

    /// An answer to send: the stored status and body, and whether it replays an earlier request.
    struct Answer: Sendable, Equatable {
        var status: Int
        var body: String
        var replayed: Bool
    }

    // MARK: - Charges

    /// The stored answer for a charge key, or nil when the key is new.
    ///
    /// - Throws: ``Problem`` `422` when the key was used with other parameters.
    func replayCharge(_ request: ChargeRequest) async throws -> Answer? {
        let rows = try await pool.query(
            """
            SELECT fingerprint, response_status, response_body FROM \(identifier: schema).charges
            WHERE idempotency_key = \(request.idempotencyKey)
            """
        )
        return try rows.first.map { try Self.replay($0, fingerprint: request.fingerprint, key: request.idempotencyKey) }
    }

    /// Counts one more attempt of `key` and returns the count, from 1.
    func countAttempt(of key: String) async throws -> Int {
        try await pool.query(
            """
            INSERT INTO \(identifier: schema).key_attempts (idempotency_key, attempts) VALUES (\(key), 1)
            ON CONFLICT (idempotency_key) DO UPDATE SET attempts = key_attempts.attempts + 1
            RETURNING attempts
            """
        )[0].decode(Int.self, 0)
    }

    /// Records the decision on a charge, or returns the answer of whoever recorded this key first.
    func recordCharge(_ request: ChargeRequest, approved: Bool, path: String) async throws -> Answer {
        let chargeID = GatewayJSON.newID("ch")
        let status = approved ? ChargeStatus.succeeded : ChargeStatus.declined
        let responseStatus = approved ? 201 : 402
        let body =
            approved
            ? GatewayJSON.encode(ChargeCreated(chargeID: chargeID, status: status))
            : GatewayJSON.encode(ChargeDeclined(detail: "the card was declined by its issuer", instance: path, chargeID: chargeID))
        // One statement, committed on its own: a key seen before inserts nothing and reads the stored answer.
        let inserted = try await pool.execute(
            """
            INSERT INTO \(identifier: schema).charges
                (charge_id, idempotency_key, fingerprint, order_id, amount_cents, currency, token, status, response_status, response_body)
            VALUES (\(chargeID), \(request.idempotencyKey), \(request.fingerprint), \(request.orderID), \(request.amountCents),
                    \(request.currency), \(request.token), \(status), \(responseStatus), \(body))
            ON CONFLICT (idempotency_key) DO NOTHING
            """
        )
        if inserted == 1 { return Answer(status: responseStatus, body: body, replayed: false) }
        // The key was used before, or a concurrent request with it committed first: its answer is the answer.
        guard let answer = try await replayCharge(request) else {
            throw Problem(.serviceUnavailable, detail: "charge '\(request.idempotencyKey)' was neither recorded nor found; retry with the same key")
        }
        return answer
    }

    // MARK: - Refunds

    /// Makes a refund, or returns the stored answer for its key.
    ///
    /// The charge row is locked first, so refunds of one charge are decided one at a time and the
    /// sum of refunds can never exceed the charge, whatever the concurrency.
    ///
    /// - Throws: ``Problem`` `404` for an unknown charge, `422` for a declined charge, an amount over
    ///   what remains refundable, or a key used with other parameters.
    func refund(_ request: RefundRequest) async throws -> Answer {
        try await pool.transaction { transaction in
            let charges = try await transaction.query(
                """
                SELECT status, amount_cents FROM \(identifier: schema).charges
                WHERE charge_id = \(request.chargeID) FOR UPDATE
                """
            )
            let existing = try await transaction.query(
                """
                SELECT fingerprint, 201 AS response_status, response_body FROM \(identifier: schema).refunds
                WHERE idempotency_key = \(request.idempotencyKey)
                """
            )
            if let row = existing.first { return try Self.replay(row, fingerprint: request.fingerprint, key: request.idempotencyKey) }
            guard let charge = charges.first else {
                throw Problem(.notFound, detail: "no charge '\(request.chargeID)' in the ledger")
            }
            let refunded = try await transaction.query(
                "SELECT coalesce(sum(amount_cents), 0)::bigint FROM \(identifier: schema).refunds WHERE charge_id = \(request.chargeID)"
            )[0].decode(Int.self, 0)
            let decision = RefundDecision.decide(
                chargeStatus: try charge.decode(String.self, "status"), chargeAmountCents: try charge.decode(Int.self, "amount_cents"),
                refundedCents: refunded, amountCents: request.amountCents
            )
            switch decision {
            case .allowed:
                break
            case .chargeNotSucceeded(let status):
                throw Problem(
                    .unprocessableContent, detail: "charge '\(request.chargeID)' is \(status): there is nothing to refund",
                    errors: [.init(field: "charge_id", message: "is not a succeeded charge")]
                )
            case .exceedsRefundable(let remaining):
                throw Problem(
                    .unprocessableContent,
                    detail: "charge '\(request.chargeID)' has \(remaining) cents left to refund, less than the \(request.amountCents) asked",
                    errors: [.init(field: "amount_cents", message: "must be at most \(remaining)")]
                )
            }
            let refundID = GatewayJSON.newID("re")
            let body = GatewayJSON.encode(RefundCreated(refundID: refundID, chargeID: request.chargeID, amountCents: request.amountCents))
            let inserted = try await transaction.execute(
                """
                INSERT INTO \(identifier: schema).refunds (refund_id, idempotency_key, fingerprint, charge_id, amount_cents, response_body)
                VALUES (\(refundID), \(request.idempotencyKey), \(request.fingerprint), \(request.chargeID), \(request.amountCents), \(body))
                ON CONFLICT (idempotency_key) DO NOTHING
                """
            )
            if inserted == 1 { return Answer(status: 201, body: body, replayed: false) }
            // The same key for another charge raced in and committed first.
            let rows = try await transaction.query(
                """
                SELECT fingerprint, 201 AS response_status, response_body FROM \(identifier: schema).refunds
                WHERE idempotency_key = \(request.idempotencyKey)
                """
            )
            return try Self.replay(rows[0], fingerprint: request.fingerprint, key: request.idempotencyKey)
        }
    }

    // MARK: - Ledger

    /// Every charge and refund, or those of one order; oldest first.
    func report(orderID: String?) async throws -> GatewayLedgerReport {
        let charges = try await pool.query(
            """
            SELECT charge_id, order_id, amount_cents, currency, status FROM \(identifier: schema).charges
            WHERE \(orderID)::text IS NULL OR order_id = \(orderID)
            ORDER BY created_at, charge_id
            """
        )
        let refunds = try await pool.query(
            """
            SELECT r.refund_id, r.charge_id, r.amount_cents FROM \(identifier: schema).refunds r
            JOIN \(identifier: schema).charges c USING (charge_id)
            WHERE \(orderID)::text IS NULL OR c.order_id = \(orderID)
            ORDER BY r.created_at, r.refund_id
            """
        )
        return GatewayLedgerReport(
            charges: try charges.map {
                GatewayLedgerReport.Charge(
                    chargeID: try $0.decode(String.self, "charge_id"), orderID: try $0.decode(String.self, "order_id"),
                    amountCents: try $0.decode(Int.self, "amount_cents"), currency: try $0.decode(String.self, "currency"),
                    status: try $0.decode(String.self, "status")
                )
            },
            refunds: try refunds.map {
                GatewayLedgerReport.Refund(
                    refundID: try $0.decode(String.self, "refund_id"), chargeID: try $0.decode(String.self, "charge_id"),
                    amountCents: try $0.decode(Int.self, "amount_cents")
                )
            }
        )
    }

    private static func replay(_ row: PostgresRow, fingerprint: String, key: String) throws -> Answer {
        guard try row.decode(String.self, "fingerprint") == fingerprint else {
            throw Problem(
                .unprocessableContent, detail: "idempotency key '\(key)' was already used with other parameters",
                errors: [.init(field: "idempotency_key", message: "was already used with other parameters")]
            )
        }
        return Answer(status: try row.decode(Int.self, "response_status"), body: try row.decode(String.self, "response_body"), replayed: true)
    }
}
