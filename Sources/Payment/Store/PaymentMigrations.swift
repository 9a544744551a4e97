import Messaging
import Postgres

/// The tables of payment-service: the outbox and inbox, then its own from version 100.
///
/// - `charges`: one decided charge per order (unique), `succeeded` or `declined`.
/// - `refunds`: at most one refund per charge (unique).
/// - `cancellations`: orders cancelled, so that a late `order.placed` is never charged.
package enum PaymentMigrations {
    package static func all(schema: String) -> [PostgresMigration] {
        let s = PostgresQuery.quoteIdentifier(schema)
        return MessagingMigrations.all(schema: schema) + [
            PostgresMigration(
                version: 100, name: "charges, refunds, cancellations",
                sql: """
                    CREATE TABLE \(s).charges (
                        order_id text PRIMARY KEY,
                        charge_id text UNIQUE,
                        status text NOT NULL CHECK (status IN ('succeeded', 'declined')),
                        amount_cents bigint NOT NULL CHECK (amount_cents >= 0),
                        currency text NOT NULL,
                        reason text,
                        created_at timestamptz NOT NULL DEFAULT now()
                    );
                    CREATE TABLE \(s).refunds (
                        refund_id text PRIMARY KEY,
                        charge_id text NOT NULL UNIQUE REFERENCES \(s).charges (charge_id),
                        order_id text NOT NULL,
                        amount_cents bigint NOT NULL,
                        currency text NOT NULL,
                        reason text NOT NULL,
                        created_at timestamptz NOT NULL DEFAULT now()
                    );
                    CREATE TABLE \(s).cancellations (
                        order_id text PRIMARY KEY,
                        reason text,
                        created_at timestamptz NOT NULL DEFAULT now()
                    );
                    """
            )
        ]
    }
}
