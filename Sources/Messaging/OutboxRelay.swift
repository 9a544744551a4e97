import AMQP
import Foundation
import Logging
import Metrics
import Postgres
import ServiceLifecycle

/// Publishes a service's outbox to the broker, with confirms, in order per aggregate.
///
/// Each round claims a batch of unpublished rows with `FOR UPDATE SKIP LOCKED`, publishes them,
/// and marks them published in the same transaction only once the broker confirmed them. Several
/// relays (one per service instance) can run at once: they never claim the same row, and a row is
/// claimed only when no earlier unpublished row of its aggregate is held by another relay, so the
/// events of one order leave in the order they were written.
///
/// A crash after publishing and before the commit publishes those rows again on the next round:
/// a duplicate that every consumer's ``Inbox`` absorbs. Nothing is ever lost.
///
/// The relay wakes on `NOTIFY` from ``Outbox/enqueue(_:in:)`` and polls as a fallback.
public final class OutboxRelay: Service, Sendable {
    public let outbox: Outbox
    let pool: PostgresPool
    let connection: AMQPConnection
    let batchSize: Int
    let pollInterval: Duration
    let retention: Duration
    let logger: Logger
    let published: Counter
    let unroutable: Counter

    /// - Parameters:
    ///   - batchSize: the most rows claimed per round.
    ///   - pollInterval: how long to wait for a notification before looking anyway.
    ///   - retention: how long published rows are kept for inspection before they are deleted.
    public init(
        outbox: Outbox, pool: PostgresPool, connection: AMQPConnection, batchSize: Int = 500,
        pollInterval: Duration = .milliseconds(500), retention: Duration = .seconds(3600), logger: Logger
    ) {
        self.outbox = outbox
        self.pool = pool
        self.connection = connection
        self.batchSize = batchSize
        self.pollInterval = pollInterval
        self.retention = retention
        var logger = logger
        logger[metadataKey: "outbox.schema"] = "\(outbox.schema)"
        self.logger = logger
        published = Counter(label: "orderly_outbox_published_total", dimensions: [("schema", outbox.schema)])
        unroutable = Counter(label: "orderly_outbox_unroutable_total", dimensions: [("schema", outbox.schema)])
    }

    /// Relays until cancelled or asked to shut down gracefully; a round in progress completes.
    public func run() async throws {
        let doorbell = Doorbell()
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await self.listen(ringing: doorbell) }
            var lastCleanup = ContinuousClock.now
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                let relayed: Int
                do {
                    relayed = try await relayBatch()
                } catch {
                    logger.warning("outbox round failed; trying again", metadata: ["error": "\(error)"])
                    relayed = 0
                    try? await Task.sleep(for: pollInterval)
                }
                if ContinuousClock.now - lastCleanup > .seconds(60) {
                    try? await deletePublished()
                    lastCleanup = .now
                }
                if relayed < batchSize { await doorbell.wait(upTo: pollInterval) }
            }
            group.cancelAll()
        }
    }

    /// One round: claims, publishes and marks a batch; returns how many rows it settled.
    ///
    /// - Parameter afterPublish: called after the broker confirmed and before the rows are marked;
    ///   a test throws here to play a relay that dies in between.
    @discardableResult
    public func relayBatch(afterPublish: @Sendable () async throws -> Void = {}) async throws -> Int {
        try await pool.transaction { transaction in
            let rows = try await transaction.query(
                """
                WITH batch AS (
                    SELECT id FROM \(identifier: outbox.schema).outbox
                    WHERE published_at IS NULL ORDER BY id LIMIT \(batchSize) FOR UPDATE SKIP LOCKED
                )
                SELECT o.id, o.exchange, o.routing_key, o.envelope FROM \(identifier: outbox.schema).outbox o JOIN batch USING (id)
                WHERE NOT EXISTS (
                    SELECT 1 FROM \(identifier: outbox.schema).outbox earlier
                    WHERE earlier.aggregate_id = o.aggregate_id AND earlier.published_at IS NULL AND earlier.id < o.id
                      AND earlier.id NOT IN (SELECT id FROM batch)
                )
                ORDER BY o.id
                """
            )
            guard !rows.isEmpty else { return 0 }
            var ids: [Int64] = []
            var publications: [AMQPConnection.Publication] = []
            for row in rows {
                let id = try row.decode(Int64.self, "id")
                let envelope = try row.decode(String.self, "envelope")
                guard let event = try? CloudEvent(json: Data(envelope.utf8)) else {
                    // Written by this code, so this is a bug; keeping the row would block its aggregate forever.
                    logger.error("unreadable outbox row skipped", metadata: ["outbox.id": "\(id)"])
                    ids.append(id)
                    continue
                }
                ids.append(id)
                publications.append(
                    AMQPConnection.Publication(
                        event.amqpMessage(), exchange: try row.decode(String.self, "exchange"),
                        routingKey: try row.decode(String.self, "routing_key")
                    )
                )
            }
            let results = await connection.publish(publications)
            try await afterPublish()
            var settled: [Int64] = []
            var firstFailure: AMQPError?
            for (id, result) in zip(ids, results) {
                switch result {
                case .success:
                    settled.append(id)
                case .failure(let error) where error.code == .unroutable:
                    // Nobody subscribes to this routing key: the broker dropped it, and sending it
                    // again would not change that. Counted, so a missing binding shows.
                    unroutable.increment()
                    logger.warning("outbox event had no subscriber", metadata: ["outbox.id": "\(id)", "error": "\(error)"])
                    settled.append(id)
                case .failure(let error):
                    firstFailure = firstFailure ?? error
                }
            }
            try await transaction.execute(
                "UPDATE \(identifier: outbox.schema).outbox SET published_at = now() WHERE id = ANY(\(settled)::bigint[])"
            )
            published.increment(by: settled.count)
            if let firstFailure {
                logger.warning("some outbox events were not confirmed; they go out again", metadata: ["error": "\(firstFailure)"])
            }
            return settled.count
        }
    }

    private func deletePublished() async throws {
        let seconds = Int(retention.components.seconds)
        try await pool.execute(
            """
            DELETE FROM \(identifier: outbox.schema).outbox
            WHERE published_at < now() - make_interval(secs => \(seconds))
            """
        )
    }

    /// Rings the doorbell on every notification; reconnects when the listening connection fails.
    private func listen(ringing doorbell: Doorbell) async {
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(configuration: pool.configuration, logger: logger)
                do {
                    for try await _ in try await connection.listen(to: [outbox.notificationChannel]) { doorbell.ring() }
                } catch {
                    logger.debug("outbox listener lost its connection", metadata: ["error": "\(error)"])
                }
                await connection.close()
            } catch {
                logger.debug("outbox listener cannot connect", metadata: ["error": "\(error)"])
            }
            doorbell.ring()  // Look once, in case something was written while nobody listened.
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
