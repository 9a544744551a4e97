import Messaging
import Postgres

/// The tables of inventory-service, after the messaging kit's outbox and inbox.
package enum InventoryMigrations {
    /// Every migration of a schema: the outbox and inbox (versions 1 and 2), then inventory's own (from 100).
    package static func all(schema: String) -> [PostgresMigration] {
        let s = PostgresQuery.quoteIdentifier(schema)
        return MessagingMigrations.all(schema: schema) + [
            PostgresMigration(
                version: 100, name: "stock, orders, reservations, adjustments",
                sql: """
                    CREATE TABLE \(s).stock (
                        sku text PRIMARY KEY,
                        available bigint NOT NULL DEFAULT 0 CHECK (available >= 0),
                        reserved bigint NOT NULL DEFAULT 0 CHECK (reserved >= 0),
                        updated_at timestamptz NOT NULL DEFAULT now()
                    );
                    -- One row per order inventory heard of: how its reservation was decided, and
                    -- whether it was cancelled (a cancellation may arrive before the payment).
                    CREATE TABLE \(s).orders (
                        order_id text PRIMARY KEY,
                        payment_id text,
                        reservation text CHECK (reservation IN ('reserved', 'rejected')),
                        missing text[],
                        reason text,
                        decided_at timestamptz,
                        cancelled_at timestamptz,
                        released_at timestamptz,
                        created_at timestamptz NOT NULL DEFAULT now()
                    );
                    CREATE TABLE \(s).reservations (
                        order_id text NOT NULL REFERENCES \(s).orders (order_id),
                        sku text NOT NULL REFERENCES \(s).stock (sku),
                        quantity bigint NOT NULL CHECK (quantity > 0),
                        created_at timestamptz NOT NULL DEFAULT now(),
                        PRIMARY KEY (order_id, sku)
                    );
                    CREATE TABLE \(s).adjustments (
                        id bigserial PRIMARY KEY,
                        event_id text NOT NULL UNIQUE,
                        sku text NOT NULL REFERENCES \(s).stock (sku),
                        delta bigint NOT NULL,
                        reason text NOT NULL,
                        available_after bigint NOT NULL,
                        at timestamptz NOT NULL DEFAULT now()
                    );
                    CREATE INDEX adjustments_by_sku ON \(s).adjustments (sku, id);
                    """
            )
        ]
    }
}
