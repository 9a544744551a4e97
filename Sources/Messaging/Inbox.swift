import Postgres

/// The processed message ids of one consumer, so that a redelivered or duplicated message has no
/// second effect.
///
/// `claim(_:in:)` runs in the same transaction as the handler's own changes: either both
/// commit (the message is done) or neither does (it will be handled again).
public struct Inbox: Sendable, Hashable {
    public let schema: String
    /// The consumer's name; several consumers in one schema keep separate records.
    public let consumer: String

    public init(schema: String, consumer: String) {
        self.schema = schema
        self.consumer = consumer
    }

    /// Records `messageID` as processed; false when it was processed before.
    ///
    /// A concurrent claim of the same id waits on the row lock until the first transaction ends,
    /// then sees its outcome: at most one of them handles the message.
    public func claim(_ messageID: String, in transaction: PostgresTransaction) async throws -> Bool {
        try await transaction.execute(
            """
            INSERT INTO \(identifier: schema).inbox (consumer, message_id) VALUES (\(consumer), \(messageID))
            ON CONFLICT DO NOTHING
            """
        ) == 1
    }

    /// Records every id in `messageIDs` as processed, with one statement; returns those not processed before.
    ///
    /// As with ``claim(_:in:)``, an id claimed by a concurrent transaction waits for it to end.
    public func claim(_ messageIDs: [String], in transaction: PostgresTransaction) async throws -> Set<String> {
        guard !messageIDs.isEmpty else { return [] }
        let rows = try await transaction.query(
            """
            INSERT INTO \(identifier: schema).inbox (consumer, message_id) SELECT \(consumer), unnest(\(messageIDs)::text[])
            ON CONFLICT DO NOTHING RETURNING message_id
            """
        )
        return Set(try rows.map { try $0.decode(String.self, 0) })
    }

    /// Takes claims back in `transaction`: these messages were not handled after all and will come again.
    public func release(_ messageIDs: [String], in transaction: PostgresTransaction) async throws {
        try await transaction.execute(
            "DELETE FROM \(identifier: schema).inbox WHERE consumer = \(consumer) AND message_id = ANY(\(messageIDs)::text[])")
    }

    /// Deletes at most `limit` records of every consumer in the schema processed more than `window` ago,
    /// oldest first; returns how many it deleted.
    ///
    /// Rows another transaction holds are skipped rather than waited for, so pruning never blocks a handler.
    public static func prune(schema: String, olderThan window: Duration, limit: Int, on pool: PostgresPool) async throws -> Int {
        try await pool.execute(
            """
            DELETE FROM \(identifier: schema).inbox WHERE ctid = ANY(ARRAY(
                SELECT ctid FROM \(identifier: schema).inbox
                WHERE processed_at < now() - make_interval(secs => \(Int(window.components.seconds)))
                ORDER BY processed_at LIMIT \(limit) FOR UPDATE SKIP LOCKED))
            """
        )
    }

    /// Whether `messageID` has been processed.
    public func contains(_ messageID: String, on pool: PostgresPool) async throws -> Bool {
        try await !pool.query(
            "SELECT 1 FROM \(identifier: schema).inbox WHERE consumer = \(consumer) AND message_id = \(messageID)"
        ).isEmpty
    }
}
