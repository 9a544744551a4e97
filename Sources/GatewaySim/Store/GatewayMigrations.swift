import Postgres

/// The simulator's tables: its ledger of charges and refunds, and the attempts of flaky keys.
package enum GatewayMigrations {
    package static func all(schema: String) -> [PostgresMigration] {
        let s = PostgresQuery.quoteIdentifier(schema)
        return [
            PostgresMigration(
                version: 100, name: "ledger",
                sql: """
                    CREATE TABLE \(s).charges (
                        charge_id text PRIMARY KEY,
                        idempotency_key text NOT NULL UNIQUE,
                        fingerprint text NOT NULL,
                        order_id text NOT NULL,
                        amount_cents bigint NOT NULL CHECK (amount_cents > 0),
                        currency text NOT NULL,
                        token text NOT NULL,
                        status text NOT NULL CHECK (status IN ('succeeded', 'declined')),
                        response_status int NOT NULL,
                        response_body text NOT NULL,
                        created_at timestamptz NOT NULL DEFAULT clock_timestamp()
                    );
                    CREATE INDEX charges_by_order ON \(s).charges (order_id, created_at);
                    CREATE TABLE \(s).refunds (
                        refund_id text PRIMARY KEY,
                        idempotency_key text NOT NULL UNIQUE,
                        fingerprint text NOT NULL,
                        charge_id text NOT NULL REFERENCES \(s).charges (charge_id),
                        amount_cents bigint NOT NULL CHECK (amount_cents > 0),
                        response_body text NOT NULL,
                        created_at timestamptz NOT NULL DEFAULT clock_timestamp()
                    );
                    CREATE INDEX refunds_by_charge ON \(s).refunds (charge_id);
                    CREATE TABLE \(s).key_attempts (
                        idempotency_key text PRIMARY KEY,
                        attempts int NOT NULL
                    );
                    """
            )
        ]
    }
}
