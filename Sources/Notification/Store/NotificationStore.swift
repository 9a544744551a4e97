import Contracts
import Foundation
import Postgres

/// The SQL of notification-service, on the tables of one schema. Every write runs in the caller's transaction.
package struct NotificationStore: Sendable, Hashable {
    package let schema: String

    package init(schema: String) {
        self.schema = schema
    }

    /// Claims the notification of an order and outcome; `false` when it was already recorded.
    ///
    /// The row is written before any channel sends, inside the handler's transaction: a concurrent
    /// duplicate of the same outcome waits on the unique key until this transaction ends, then finds
    /// the row (and sends nothing) if it committed, or claims it if it rolled back.
    package func claim(_ notification: CustomerNotification, in transaction: PostgresTransaction) async throws -> Bool {
        try await !claim([notification], in: transaction).isEmpty
    }

    /// Claims several notifications with one statement; returns the ids of those claimed now (the others
    /// were claimed before, under any event id).
    package func claim(_ notifications: [CustomerNotification], in transaction: PostgresTransaction) async throws -> Set<String> {
        guard !notifications.isEmpty else { return [] }
        let rows = try await transaction.query(
            """
            INSERT INTO \(identifier: schema).notifications (id, order_id, outcome, recipient, status)
            SELECT id, order_id, outcome, recipient, 'sending'
            FROM unnest(\(notifications.map(\.id))::text[], \(notifications.map(\.orderID))::text[],
                        \(notifications.map(\.outcome.rawValue))::text[], \(notifications.map(\.customer.email))::text[])
                 AS n (id, order_id, outcome, recipient)
            ON CONFLICT (order_id, outcome) DO NOTHING
            RETURNING id
            """
        )
        return Set(try rows.map { try $0.decode(String.self, 0) })
    }

    /// Takes claims back: these notifications were not sent after all and will be tried again.
    package func release(_ ids: [String], in transaction: PostgresTransaction) async throws {
        guard !ids.isEmpty else { return }
        try await transaction.execute("DELETE FROM \(identifier: schema).notifications WHERE id = ANY(\(ids)::text[])")
    }

    /// Records what the channels did.
    package func complete(_ id: String, status: String, results: [ChannelResult], in transaction: PostgresTransaction) async throws {
        try await complete([(id, status, results)], in: transaction)
    }

    /// Records what the channels did for several notifications, with one statement.
    package func complete(_ outcomes: [(id: String, status: String, results: [ChannelResult])], in transaction: PostgresTransaction) async throws {
        guard !outcomes.isEmpty else { return }
        let json = try outcomes.map { String(decoding: try JSONEncoder.orderly.encode($0.results), as: UTF8.self) }
        transaction.sendWithNext(
            """
            UPDATE \(identifier: schema).notifications n
            SET status = c.status, channel_results = c.results::jsonb, completed_at = now()
            FROM unnest(\(outcomes.map(\.id))::text[], \(outcomes.map(\.status))::text[], \(json)::text[]) AS c (id, status, results)
            WHERE n.id = c.id
            """
        )
    }

    /// The notifications of an order, oldest first.
    package func notifications(orderID: String, on pool: PostgresPool) async throws -> [NotificationRecord] {
        try await pool.query(
            """
            SELECT id, order_id, outcome, recipient, status, coalesce(channel_results, '[]'::jsonb)::text AS channel_results, created_at
            FROM \(identifier: schema).notifications WHERE order_id = \(orderID) ORDER BY created_at, id
            """
        ).map { row in
            NotificationRecord(
                id: try row.decode(String.self, "id"), orderID: try row.decode(String.self, "order_id"),
                outcome: try row.decode(String.self, "outcome"), recipient: try row.decode(String.self, "recipient"),
                status: try row.decode(String.self, "status"),
                channelResults: try JSONDecoder().decode([ChannelResult].self, from: Data(try row.decode(String.self, "channel_results").utf8)),
                createdAt: try row.decode(Date.self, "created_at")
            )
        }
    }
}
