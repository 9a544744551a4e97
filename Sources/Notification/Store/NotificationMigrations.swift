import Messaging
import Postgres

/// The tables of notification-service, after the messaging kit's outbox and inbox.
package enum NotificationMigrations {
    /// Every migration of a schema: the outbox and inbox (versions 1 and 2), then notification's own (from 100).
    package static func all(schema: String) -> [PostgresMigration] {
        let s = PostgresQuery.quoteIdentifier(schema)
        return MessagingMigrations.all(schema: schema) + [
            PostgresMigration(
                version: 100, name: "notifications",
                sql: """
                    CREATE TABLE \(s).notifications (
                        id text PRIMARY KEY,
                        order_id text NOT NULL,
                        outcome text NOT NULL CHECK (outcome IN ('order.completed', 'order.failed', 'order.cancelled')),
                        recipient text NOT NULL,
                        status text NOT NULL CHECK (status IN ('sending', 'sent', 'failed')),
                        channel_results jsonb,
                        created_at timestamptz NOT NULL DEFAULT now(),
                        completed_at timestamptz,
                        UNIQUE (order_id, outcome)
                    );
                    """
            )
        ]
    }
}
