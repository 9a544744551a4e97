import Messaging
import Postgres

/// The order-service's tables, after the messaging kit's outbox and inbox (versions 1 and 2).
package enum OrderMigrations {
    /// Every migration of the schema, in order.
    package static func all(schema: String) -> [PostgresMigration] {
        let s = PostgresQuery.quoteIdentifier(schema)
        let statuses = OrderStatus.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        let open = OrderStore.openStatusList
        return MessagingMigrations.all(schema: schema) + [
            PostgresMigration(
                version: 100, name: "orders",
                sql: """
                    CREATE TABLE \(s).orders (
                        id uuid PRIMARY KEY,
                        status text NOT NULL CHECK (status IN (\(statuses))),
                        customer_id text NOT NULL,
                        customer_email text NOT NULL,
                        currency text NOT NULL,
                        total_cents bigint NOT NULL CHECK (total_cents >= 0),
                        payment_id text,
                        failure_reason text,
                        traceparent text NOT NULL,
                        idempotency_key text UNIQUE,
                        request_hash text,
                        source_event_id text UNIQUE,
                        created_at timestamptz NOT NULL,
                        updated_at timestamptz NOT NULL,
                        deadline timestamptz NOT NULL
                    );
                    CREATE INDEX orders_newest ON \(s).orders (created_at DESC, id DESC);
                    CREATE INDEX orders_by_customer ON \(s).orders (customer_id, created_at DESC, id DESC);
                    CREATE INDEX orders_by_status ON \(s).orders (status, created_at DESC, id DESC);
                    CREATE INDEX orders_open_by_deadline ON \(s).orders (deadline) WHERE status IN (\(open));

                    CREATE TABLE \(s).order_lines (
                        order_id uuid NOT NULL REFERENCES \(s).orders (id) ON DELETE CASCADE,
                        position int NOT NULL,
                        sku text NOT NULL,
                        quantity int NOT NULL CHECK (quantity > 0),
                        unit_price_cents bigint NOT NULL CHECK (unit_price_cents >= 0),
                        PRIMARY KEY (order_id, position)
                    );

                    CREATE TABLE \(s).order_history (
                        id bigserial PRIMARY KEY,
                        order_id uuid NOT NULL REFERENCES \(s).orders (id) ON DELETE CASCADE,
                        status text NOT NULL,
                        at timestamptz NOT NULL
                    );
                    CREATE INDEX order_history_by_order ON \(s).order_history (order_id, id);

                    -- Every saga event applied to an order, moved or ignored, for the operator.
                    CREATE TABLE \(s).order_events (
                        id bigserial PRIMARY KEY,
                        order_id text NOT NULL,
                        event_id text NOT NULL,
                        event_type text NOT NULL,
                        outcome text NOT NULL CHECK (outcome IN ('moved', 'ignored')),
                        from_status text,
                        to_status text,
                        reason text,
                        at timestamptz NOT NULL DEFAULT clock_timestamp()
                    );
                    CREATE INDEX order_events_by_order ON \(s).order_events (order_id, id);
                    """
            ),
            // An order changes status three times: with no index on its status (the deadline sweep finds
            // open orders by a deadline that ends with them), those updates stay on their page and leave
            // the indexes alone (HOT), which is most of what they cost.
            PostgresMigration(
                version: 101, name: "orders updated in place",
                sql: """
                    DROP INDEX IF EXISTS \(s).orders_by_status;
                    DROP INDEX IF EXISTS \(s).orders_open_by_deadline;
                    ALTER TABLE \(s).orders ALTER COLUMN deadline DROP NOT NULL;
                    UPDATE \(s).orders SET deadline = NULL WHERE status NOT IN (\(open));
                    CREATE INDEX orders_open_by_deadline ON \(s).orders (deadline) WHERE deadline IS NOT NULL;
                    ALTER TABLE \(s).orders SET (fillfactor = 80);
                    """
            ),
            // The journal becomes the order's timeline: the events order-service emits are journaled with those
            // it handles, each with who emitted it, when, and its trace context. The new columns have no default
            // (adding them rewrites nothing) and the new check holds for every row already there (NOT VALID:
            // no scan under the table's lock).
            PostgresMigration(
                version: 102, name: "order timeline",
                sql: """
                    ALTER TABLE \(s).order_events
                        ADD COLUMN source text, ADD COLUMN event_time timestamptz, ADD COLUMN traceparent text,
                        DROP CONSTRAINT IF EXISTS order_events_outcome_check,
                        ADD CONSTRAINT order_events_outcome_check CHECK (outcome IN ('moved', 'ignored', 'emitted')) NOT VALID;
                    """
            ),
        ]
    }
}
