import AMQP
import Foundation
import Postgres

/// An event to publish once the transaction that wrote it commits.
public struct OutgoingEvent: Sendable, Hashable {
    public var event: CloudEvent
    public var exchange: String
    /// Defaults to the event type, as the contract wants.
    public var routingKey: String

    public init(_ event: CloudEvent, exchange: String, routingKey: String? = nil) {
        self.event = event
        self.exchange = exchange
        self.routingKey = routingKey ?? event.type
    }
}

/// The transactional outbox of one service schema.
///
/// A service writes its state change and the events it emits in one transaction; the
/// ``OutboxRelay`` publishes them after the commit. So an event is published if and only if the
/// change that caused it committed — never for a rolled-back change, and never lost for a
/// committed one, whatever crashes in between.
///
/// With a ``OutboxDispatch``, the events of a transaction that commits go to the broker straight from this
/// process, and their rows are the safety net the relay publishes only if this process cannot.
public struct Outbox: Sendable, Hashable {
    /// The PostgreSQL schema that holds the service's tables.
    public let schema: String
    /// Where committed events go at once; without one, the relay publishes every row.
    public let dispatch: OutboxDispatch?

    public init(schema: String, dispatch: OutboxDispatch? = nil) {
        self.schema = schema
        self.dispatch = dispatch
    }

    public static func == (lhs: Outbox, rhs: Outbox) -> Bool {
        lhs.schema == rhs.schema && lhs.dispatch.map(ObjectIdentifier.init) == rhs.dispatch.map(ObjectIdentifier.init)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(schema)
        hasher.combine(dispatch.map(ObjectIdentifier.init))
    }

    /// The channel the relay listens on; every enqueue notifies it at commit.
    var notificationChannel: String { "orderly_outbox_\(schema)" }

    /// Writes events into the outbox as part of `transaction`.
    ///
    /// Events are published in the order written, per aggregate (the event's subject). The rows travel
    /// with the transaction's next round trip (`PostgresTransaction.sendWithNext(_:)`), in the same round
    /// trip; a failure to write them makes the commit fail. With a ``dispatch``, the rows are held for it and
    /// the events handed to it once the transaction committed; without one (or while it is degraded), the
    /// relay is notified at commit. Either way, the rows of events the dispatch got confirmed go with the
    /// same round trip.
    public func enqueue(_ events: [OutgoingEvent], in transaction: PostgresTransaction) async throws {
        deleteDispatched(in: transaction)
        guard !events.isEmpty else { return }
        let aggregates = events.map { $0.event.subject ?? $0.event.id }
        let exchanges = events.map(\.exchange)
        let routingKeys = events.map(\.routingKey)
        let ids = events.map(\.event.id)
        let envelopes = events.map { String(decoding: $0.event.jsonData(), as: UTF8.self) }
        let dispatch = self.dispatch.flatMap { $0.isTakingEvents ? $0 : nil }
        let holdSeconds = dispatch.map { Double($0.hold.components.seconds) }
        // What the message's properties need, in columns, so that the relay publishes the envelope as it is
        // without reading it again.
        transaction.sendWithNext(
            """
            INSERT INTO \(identifier: schema).outbox
                (aggregate_id, exchange, routing_key, message_id, envelope, event_type, source, subject, traceparent, event_time, relay_after)
            SELECT *, now() + make_interval(secs => \(holdSeconds)::float8)
            FROM unnest(\(aggregates)::text[], \(exchanges)::text[], \(routingKeys)::text[], \(ids)::text[], \(envelopes)::text[],
                        \(events.map(\.event.type))::text[], \(events.map(\.event.source))::text[], \(events.map(\.event.subject))::text[],
                        \(events.map(\.event.traceparent))::text[], \(events.map(\.event.time))::timestamptz[])
            """
        )
        guard let dispatch else {
            transaction.sendWithNext("SELECT pg_notify(\(notificationChannel), '')")
            return
        }
        let handed = zip(events, envelopes).map { outgoing, envelope in
            let event = outgoing.event
            let message = CloudEvent.amqpMessage(
                body: Array(envelope.utf8), id: event.id, type: event.type, source: event.source, subject: event.subject, time: event.time,
                traceparent: event.traceparent)
            return OutboxDispatch.Handed(
                messageID: event.id, publication: AMQPConnection.Publication(message, exchange: outgoing.exchange, routingKey: outgoing.routingKey))
        }
        transaction.onEnd { committed in if committed { dispatch.hand(handed) } }
    }

    /// Deletes, with the transaction's next round trip, the rows of events the dispatch got confirmed; they are
    /// given back to it if the transaction does not commit.
    private func deleteDispatched(in transaction: PostgresTransaction) {
        guard let dispatch else { return }
        let published = dispatch.takePublished()
        guard !published.isEmpty else { return }
        transaction.sendWithNext(deletion(of: published))
        transaction.onEnd { committed in if !committed { dispatch.giveBack(published) } }
    }

    /// The statement that deletes the rows of events the broker confirmed, by their message ids.
    func deletion(of messageIDs: [String]) -> PostgresQuery {
        "DELETE FROM \(identifier: schema).outbox WHERE message_id = ANY(\(messageIDs)::text[])"
    }

    /// Writes one event into the outbox as part of `transaction`.
    public func enqueue(_ event: CloudEvent, exchange: String, in transaction: PostgresTransaction) async throws {
        try await enqueue([OutgoingEvent(event, exchange: exchange)], in: transaction)
    }

    /// Events not yet marked published: those the broker has not confirmed, and confirmed ones whose
    /// rows wait to be deleted with the next transaction that writes the outbox.
    public func pendingCount(on pool: PostgresPool) async throws -> Int {
        try await pool.query("SELECT count(*) FROM \(identifier: schema).outbox WHERE published_at IS NULL")[0].decode(Int.self, 0)
    }
}

/// The tables of the messaging kit, as migrations for a service's `PostgresMigrator`.
///
/// They take versions below 100; a service numbers its own migrations from 100.
public enum MessagingMigrations {
    public static func all(schema: String) -> [PostgresMigration] {
        let table = PostgresQuery.quoteIdentifier(schema)
        return [
            PostgresMigration(
                version: 1, name: "outbox",
                sql: """
                    CREATE TABLE \(table).outbox (
                        id bigserial PRIMARY KEY,
                        aggregate_id text NOT NULL,
                        exchange text NOT NULL,
                        routing_key text NOT NULL,
                        message_id text NOT NULL,
                        envelope text NOT NULL,
                        created_at timestamptz NOT NULL DEFAULT now(),
                        published_at timestamptz
                    );
                    CREATE INDEX outbox_unpublished ON \(table).outbox (id) WHERE published_at IS NULL;
                    CREATE INDEX outbox_unpublished_by_aggregate ON \(table).outbox (aggregate_id, id) WHERE published_at IS NULL;
                    CREATE INDEX outbox_published_at ON \(table).outbox (published_at) WHERE published_at IS NOT NULL;
                    """
            ),
            PostgresMigration(
                version: 2, name: "inbox",
                sql: """
                    CREATE TABLE \(table).inbox (
                        consumer text NOT NULL,
                        message_id text NOT NULL,
                        processed_at timestamptz NOT NULL DEFAULT now(),
                        PRIMARY KEY (consumer, message_id)
                    );
                    CREATE INDEX inbox_processed_at ON \(table).inbox (processed_at);
                    """
            ),
            PostgresMigration(
                version: 3, name: "outbox retries",
                sql: """
                    ALTER TABLE \(table).outbox
                        ADD COLUMN attempts integer NOT NULL DEFAULT 0,
                        ADD COLUMN next_attempt_at timestamptz,
                        ADD COLUMN last_error text;
                    """
            ),
            // Both tables are queues of short-lived rows: vacuumed after a few thousand changes rather than
            // a fraction of their size, so that dead index entries do not pile up under the relay's scans.
            PostgresMigration(
                version: 4, name: "queue table vacuuming",
                sql: """
                    ALTER TABLE \(table).outbox SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 2000,
                        autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 10000);
                    ALTER TABLE \(table).inbox SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000,
                        autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 50000);
                    """
            ),
            // One relay publishes at a time (an advisory lock), so order per aggregate needs checking only
            // against rows that are waiting out a failure; and the message's properties are kept in
            // columns, so the envelope is published as written.
            PostgresMigration(
                version: 5, name: "outbox properties",
                sql: """
                    ALTER TABLE \(table).outbox
                        ADD COLUMN event_type text, ADD COLUMN source text, ADD COLUMN subject text, ADD COLUMN traceparent text,
                        ADD COLUMN event_time timestamptz;
                    DROP INDEX IF EXISTS \(table).outbox_unpublished_by_aggregate;
                    CREATE INDEX outbox_failing ON \(table).outbox (aggregate_id, id) WHERE published_at IS NULL AND next_attempt_at IS NOT NULL;
                    """
            ),
            // A row handed to its process's dispatch is the relay's only once `relay_after` passed; the dispatch's
            // confirmed rows are deleted by message id.
            PostgresMigration(
                version: 6, name: "outbox dispatch",
                sql: """
                    ALTER TABLE \(table).outbox ADD COLUMN relay_after timestamptz;
                    CREATE INDEX outbox_message_id ON \(table).outbox (message_id);
                    """
            ),
        ]
    }
}
