import Postgres

/// The processed message ids of one consumer, so that a redelivered or duplicated message has no
/// second effect.
///
/// ``claim(_:in:)`` runs in the same transaction as the handler's own changes: either both
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

    /// Whether `messageID` has been processed.
    public func contains(_ messageID: String, on pool: PostgresPool) async throws -> Bool {
        try await !pool.query(
            "SELECT 1 FROM \(identifier: schema).inbox WHERE consumer = \(consumer) AND message_id = \(messageID)"
        ).isEmpty
    }
}
