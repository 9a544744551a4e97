import Foundation
import Postgres

/// The SQL of notification-service, on the tables of one schema. Every write runs in the caller's transaction.
public struct NotificationStore: Sendable, Hashable {
    public let schema: String

    public init(schema: String) {
        self.schema = schema
    }

    /// Claims the notification of an order and outcome; `false` when it was already recorded.
    ///
    /// The row is written before any channel sends, inside the handler's transaction: a concurrent
    /// duplicate of the same outcome waits on the unique key until this transaction ends, then finds
    /// the row (and sends nothing) if it committed, or claims it if it rolled back.
    public func claim(_ notification: CustomerNotification, in transaction: PostgresTransaction) async throws -> Bool {
        let rows = try await transaction.query(
            """
            INSERT INTO \(identifier: schema).notifications (id, order_id, outcome, recipient, status)
            VALUES (\(notification.id), \(notification.orderID), \(notification.outcome.rawValue), \(notification.customer.email), 'sending')
            ON CONFLICT (order_id, outcome) DO NOTHING
            RETURNING id
            """
        )
        return !rows.isEmpty
    }

    /// Records what the channels did.
    public func complete(_ id: String, status: String, results: [ChannelResult], in transaction: PostgresTransaction) async throws {
        let json = String(decoding: try JSONEncoder().encode(results), as: UTF8.self)
        try await transaction.execute(
            """
            UPDATE \(identifier: schema).notifications
            SET status = \(status), channel_results = \(json)::jsonb, completed_at = now()
            WHERE id = \(id)
            """
        )
    }

    /// The notifications of an order, oldest first.
    public func notifications(orderID: String, on pool: PostgresPool) async throws -> [NotificationRecord] {
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
