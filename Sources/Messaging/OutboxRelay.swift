import AMQP
import Foundation
import Logging
import Metrics
import Postgres
import ServiceLifecycle
import Synchronization
import Telemetry
import Timing

/// Publishes a service's outbox to the broker, with confirms, in order per aggregate.
///
/// Each round takes a batch of unpublished rows, publishes them, and marks them published in the
/// same transaction only once the broker confirmed them. Several relays (one per service instance)
/// can run, but one of a schema publishes at a time: a round first takes the schema's advisory lock
/// (`pg_try_advisory_xact_lock`), and a relay that finds it taken waits for its next round. Rows
/// leave in id order, which is each aggregate's order: a row waits only behind an earlier row of its
/// aggregate that is waiting out a failure, so the events of one order leave in the order they were written.
///
/// A crash after publishing and before the commit publishes those rows again on the next round:
/// a duplicate that every consumer's ``Inbox`` absorbs. Nothing is ever lost.
///
/// A row the broker does not take (its exchange is missing, a permission refuses it, a nack) is
/// tried again later, with a delay that doubles per failure up to ``maxRetryDelay``; its failures
/// are counted in `orderly_outbox_publish_failures_total`, written on the row (`attempts`,
/// `last_error`) and reported in ``health``. Later events of the same aggregate wait behind it. The
/// exchanges the relay writes are declared before its first round and again after a failure.
///
/// With an ``OutboxDispatch`` on its outbox, the relay also publishes what transactions of this process handed
/// it after their commit, in the order they were handed over and many at a time, with no claim and no round trip; it leaves rows held
/// by a dispatch (its own or another process's) alone until their hold runs out, and takes over all of them while
/// its own dispatch is degraded by a failure.
///
/// The relay wakes on `NOTIFY` from ``Outbox/enqueue(_:in:)`` and polls as a fallback. While rounds carry more
/// than one row, it lingers a few milliseconds after a wake-up (``BatchRhythm``), so that the commits of several
/// batches leave in one round: one claim, one publish-confirm round and one delete for all of them.
public final class OutboxRelay: Service, HealthReporting, Sendable {
    public let outbox: Outbox
    let pool: PostgresPool
    let connection: AMQPConnection
    let exchanges: [String]
    let batchSize: Int
    let pollInterval: Duration
    let linger: Duration
    let retention: Duration
    let logger: Logger
    let published: Counter
    let unroutable: Counter
    let failures: Counter
    let backlog: Gauge
    let oldestAge: Gauge
    /// `orderly_messages_published_total{schema, type}`: events that left the outbox for the broker, by type.
    let publishedByType: MetricFamily<Counter>
    private let state = HealthCell(name: "outbox")
    /// When an event without subscribers was last reported: an event nobody binds to (`notification.sent`
    /// where no other system listens) is normal, so it is logged once in a while, not once per event.
    private let lastUnroutableReport = Mutex<ContinuousClock.Instant?>(nil)

    /// The longest wait before a row that failed is tried again.
    public static let maxRetryDelay: Duration = .seconds(30)
    /// How long one round may wait for the broker's confirms before its unconfirmed rows count as failed.
    static let publishTimeout: Duration = .seconds(10)
    /// How long the rows of confirmed events wait for a transaction to take their deletion along before the
    /// relay deletes them itself.
    static let deletionDelay: Duration = .milliseconds(250)

    /// - Parameters:
    ///   - outbox: the outbox whose rows it publishes.
    ///   - pool: the service's database.
    ///   - connection: the broker connection it publishes on, with confirms.
    ///   - exchanges: the exchanges this relay writes, declared before it publishes.
    ///   - batchSize: the most rows claimed per round.
    ///   - pollInterval: how long to wait for a notification before looking anyway.
    ///   - linger: how long to let more rows gather after a wake-up while rounds carry more than one.
    ///   - retention: how long rows set aside as unreadable are kept for inspection before they are deleted
    ///     (published rows are deleted as soon as the broker confirmed them).
    ///   - logger: where it reports.
    public init(
        outbox: Outbox, pool: PostgresPool, connection: AMQPConnection, exchanges: [String] = [], batchSize: Int = 500,
        pollInterval: Duration = .milliseconds(500), linger: Duration = BatchRhythm.defaultLinger, retention: Duration = .seconds(3600),
        logger: Logger
    ) {
        self.outbox = outbox
        self.pool = pool
        self.connection = connection
        self.exchanges = exchanges
        self.batchSize = batchSize
        self.pollInterval = pollInterval
        self.linger = linger
        self.retention = retention
        var logger = logger
        logger[metadataKey: "outbox.schema"] = "\(outbox.schema)"
        self.logger = logger
        let dimensions = [("schema", outbox.schema)]
        published = Counter(label: "orderly_outbox_published_total", dimensions: dimensions)
        unroutable = Counter(label: "orderly_outbox_unroutable_total", dimensions: dimensions)
        failures = Counter(label: "orderly_outbox_publish_failures_total", dimensions: dimensions)
        backlog = Gauge(label: "orderly_outbox_backlog", dimensions: dimensions)
        oldestAge = Gauge(label: "orderly_outbox_oldest_age_seconds", dimensions: dimensions)
        publishedByType = MetricFamily(counter: "orderly_messages_published_total", fixed: dimensions, dimensions: ["type"])
    }

    /// `degraded` while some events cannot be published, with how many, since when and why.
    public var health: ComponentHealth { state.value }

    /// The topology of the exchanges this relay writes.
    var topology: AMQPTopology { AMQPTopology(exchanges: exchanges.map { AMQPTopology.Exchange(name: $0) }) }

    /// Relays until cancelled or asked to shut down gracefully; a round in progress completes.
    public func run() async throws {
        let doorbell = Doorbell()
        let dispatch = outbox.dispatch
        // Ringing on shutdown ends a wait at once; cancelling a wait would not.
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                if let dispatch { group.addTask { await self.publishHanded(dispatch, ringing: doorbell) } }
                defer { dispatch?.stop() }  // What was handed still goes out, then the dispatch ends.
                try await relayRounds(doorbell)
            }
            if let dispatch { try? await deleteConfirmed(dispatch) }
        } onGracefulShutdown: {
            doorbell.ring()
        }
    }

    /// Publishes what transactions handed the dispatch, in order, a batch per confirm round; on a failure,
    /// degrades the dispatch so that the relay's rounds take over, and wakes them.
    private func publishHanded(_ dispatch: OutboxDispatch, ringing doorbell: Doorbell) async {
        while true {
            let handed = await withTaskCancellationHandler {
                await dispatch.next()
            } onCancel: {
                dispatch.stop()
            }
            guard !handed.isEmpty else { return }
            let publications = handed.map(\.publication)
            let results = await connection.publish(publications, timeout: Self.publishTimeout)
            countPublished(publications, results)
            var confirmed: [String] = []
            var firstFailure: AMQPError?
            for (event, result) in zip(handed, results) {
                if let error = failure(of: result, publishing: event.publication) {
                    firstFailure = firstFailure ?? error
                } else {
                    confirmed.append(event.messageID)
                }
            }
            dispatch.confirmed(confirmed)
            published.increment(by: confirmed.count)
            if let failure = firstFailure {
                dispatch.degrade()
                logger.warning(
                    "events not taken by the broker at once; the relay publishes them from the outbox", metadata: ["error": "\(failure)"])
                doorbell.ring()
            }
        }
    }

    /// Deletes the rows the dispatch got confirmed that no transaction took along.
    private func deleteConfirmed(_ dispatch: OutboxDispatch) async throws {
        let published = dispatch.takePublished()
        guard !published.isEmpty else { return }
        do {
            try await pool.execute(outbox.deletion(of: published))
        } catch {
            dispatch.giveBack(published)
            throw error
        }
    }

    /// Whether no row waits out a failure: a degraded dispatch may take events again.
    private func nothingFailing() async throws -> Bool {
        try await pool.query(
            """
            SELECT NOT EXISTS (SELECT 1 FROM \(identifier: outbox.schema).outbox WHERE published_at IS NULL AND next_attempt_at IS NOT NULL)
            """
        )[0].decode(Bool.self, 0)
    }

    private func relayRounds(_ doorbell: Doorbell) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await self.listen(ringing: doorbell) }
            var declared = exchanges.isEmpty
            var cleanups = Throttle(every: .seconds(60), since: .now)
            var gauges = Throttle(every: .seconds(5))
            var warnings = Throttle(every: .seconds(60))
            var rhythm = BatchRhythm(limit: batchSize, linger: linger)
            while !Task.isStopping {
                var relayed = 0
                // With the broker away a round could only wait; the connection's own health tells why.
                if connection.isConnected {
                    do {
                        if !declared {
                            try await connection.declare(topology)
                            declared = true
                        }
                        // Decided before the round: a round that left held rows alone says nothing about them.
                        let catchingUp = outbox.dispatch?.isDegraded ?? false
                        let round = try await relay(ignoringHolds: catchingUp)
                        relayed = round.settled
                        rhythm.closed(relayed)
                        if round.failed > 0 { declared = exchanges.isEmpty }
                        if catchingUp, let dispatch = outbox.dispatch, round.settled + round.failed == 0, try await nothingFailing() {
                            dispatch.recover()
                            logger.info("the broker takes events again; they are published as their transactions commit")
                        }
                        // Confirmed rows ride with the next transaction that writes the outbox; in a quiet moment, here.
                        if let dispatch = outbox.dispatch, dispatch.publishedWaiting(longerThan: Self.deletionDelay) {
                            try await deleteConfirmed(dispatch)
                        }
                    } catch {
                        state.set(.degraded, "the outbox cannot be relayed: \(error)")
                        if warnings.allows() { logger.warning("outbox round failed; trying again", metadata: ["error": "\(error)"]) }
                    }
                }
                if gauges.allows() { try? await measure(warnings: &warnings) }
                if cleanups.allows() { try? await deletePublished() }
                if relayed < batchSize {
                    await doorbell.wait(upTo: pollInterval)
                    if rhythm.shouldLinger(waiting: 1) { try? await Task.sleep(for: rhythm.linger) }
                }
            }
            group.cancelAll()
        }
    }

    /// What one round did: rows settled (published, or dropped as unroutable or unreadable) and rows
    /// that failed and wait for their next attempt.
    public struct Round: Sendable, Hashable {
        public var settled: Int
        public var failed: Int
    }

    /// One round: claims, publishes and marks a batch; returns how many rows it settled.
    ///
    /// - Parameter afterPublish: called after the broker confirmed and before the rows are marked;
    ///   a test throws here to play a relay that dies in between.
    @discardableResult
    public func relayBatch(afterPublish: @Sendable () async throws -> Void = {}) async throws -> Int {
        try await relay(afterPublish: afterPublish).settled
    }

    /// One round, with the count of rows that failed.
    ///
    /// Rows held for a dispatch are left to it, unless this process's dispatch failed and the relay took over.
    public func relay(afterPublish: @Sendable () async throws -> Void = {}) async throws -> Round {
        try await relay(ignoringHolds: outbox.dispatch?.isDegraded ?? false, afterPublish: afterPublish)
    }

    /// One round in three steps, in one transaction: ``claim(ignoringHolds:in:)`` takes the rows, the broker
    /// confirms their events, and ``settle(_:_:in:)`` deletes what it took and schedules what it did not.
    /// With `ignoringHolds`, rows held for a dispatch are taken too.
    func relay(ignoringHolds: Bool, afterPublish: @Sendable () async throws -> Void = {}) async throws -> Round {
        try await pool.transaction { transaction in
            let claim = try await claim(ignoringHolds: ignoringHolds, in: transaction)
            guard !claim.rows.isEmpty || !claim.unreadable.isEmpty else { return Round(settled: 0, failed: 0) }
            let publications = claim.rows.map(\.publication)
            let results = await connection.publish(publications, timeout: Self.publishTimeout)
            countPublished(publications, results)
            try await afterPublish()
            return try await settle(claim, results, in: transaction)
        }
    }

    /// The rows a round took: each readable one with its publication, and the ids of those that cannot be read.
    ///
    /// Each publication travels with its own row id: a row that cannot be read must not shift the results of
    /// the rows after it onto the wrong ids.
    private struct Claim {
        struct Row {
            var id: Int64
            var firstAttempt: Bool
            var publication: AMQPConnection.Publication
        }
        var rows: [Row] = []
        var unreadable: [Int64] = []
    }

    /// Takes up to ``batchSize`` rows that are due, in id order, under the schema's advisory lock.
    private func claim(ignoringHolds: Bool, in transaction: PostgresTransaction) async throws -> Claim {
        // One relay of a schema publishes at a time; the others find the lock taken and wait for their
        // next round. Rows then leave in id order, which is each aggregate's order, and a row waits only
        // behind an earlier row of its aggregate that is waiting out a failure.
        let rows = try await transaction.query(
            """
            WITH lead AS (SELECT pg_try_advisory_xact_lock(hashtextextended(\(outbox.notificationChannel), 0)) AS held)
            SELECT o.id, o.exchange, o.routing_key, o.envelope, o.attempts, o.message_id, o.event_type, o.source, o.subject,
                   o.traceparent, o.event_time
            FROM lead, \(identifier: outbox.schema).outbox o
            WHERE lead.held AND o.published_at IS NULL AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= now())
              AND (o.relay_after IS NULL OR o.relay_after <= now() OR \(ignoringHolds))
              AND NOT EXISTS (
                  SELECT 1 FROM \(identifier: outbox.schema).outbox waiting
                  WHERE waiting.aggregate_id = o.aggregate_id AND waiting.id < o.id AND waiting.published_at IS NULL
                    AND waiting.next_attempt_at > now()
              )
            ORDER BY o.id LIMIT \(batchSize)
            """
        )
        var claim = Claim()
        for row in rows {
            let id = try row.decode(Int64.self, "id")
            guard let message = try? Self.message(row) else {
                // Written by this code, so this is a bug; keeping the row would block its aggregate forever.
                logger.error("unreadable outbox row set aside unpublished", metadata: ["outbox.id": "\(id)"])
                claim.unreadable.append(id)
                continue
            }
            let publication = AMQPConnection.Publication(
                message, exchange: try row.decode(String.self, "exchange"), routingKey: try row.decode(String.self, "routing_key"))
            claim.rows.append(Claim.Row(id: id, firstAttempt: try row.decode(Int.self, "attempts") == 0, publication: publication))
        }
        return claim
    }

    /// Deletes the rows the broker took, sets the unreadable ones aside, and schedules the others' next try.
    private func settle(_ claim: Claim, _ results: [Result<Void, AMQPError>], in transaction: PostgresTransaction) async throws -> Round {
        var published: [Int64] = []
        var failedIDs: [Int64] = []
        var failedErrors: [String] = []
        for (row, result) in zip(claim.rows, results) {
            guard let error = failure(of: result, publishing: row.publication) else {
                published.append(row.id)
                continue
            }
            failedIDs.append(row.id)
            failedErrors.append("\(error)")
            if row.firstAttempt {
                logger.warning(
                    "outbox event not taken by the broker; trying again later",
                    metadata: ["outbox.id": "\(row.id)", "amqp.exchange": "\(row.publication.exchange)", "error": "\(error)"])
            }
        }
        // Published rows go at once: the table holds only what is still to be sent, so its cost does
        // not grow with history. The events themselves live on in the consumers and the order timeline.
        if !published.isEmpty {
            transaction.sendWithNext("DELETE FROM \(identifier: outbox.schema).outbox WHERE id = ANY(\(published)::bigint[])")
        }
        if !claim.unreadable.isEmpty {
            try await transaction.execute(
                """
                UPDATE \(identifier: outbox.schema).outbox
                SET published_at = now(), last_error = 'not published: the envelope cannot be read'
                WHERE id = ANY(\(claim.unreadable)::bigint[])
                """
            )
        }
        if !failedIDs.isEmpty {
            let cap = Int(Self.maxRetryDelay.components.seconds)
            try await transaction.execute(
                """
                UPDATE \(identifier: outbox.schema).outbox o
                SET attempts = o.attempts + 1, last_error = f.error,
                    next_attempt_at = now() + least(make_interval(secs => \(cap)), make_interval(secs => 0.5 * power(2, least(o.attempts, 16))))
                FROM unnest(\(failedIDs)::bigint[], \(failedErrors)::text[]) AS f (id, error)
                WHERE o.id = f.id
                """
            )
            failures.increment(by: failedIDs.count)
        }
        let settled = published.count + claim.unreadable.count
        self.published.increment(by: settled)
        return Round(settled: settled, failed: failedIDs.count)
    }

    /// Updates the backlog gauges and the health: degraded while rows keep failing.
    private func measure(warnings: inout Throttle) async throws {
        let row = try await pool.query(
            """
            SELECT count(*) AS backlog,
                   coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest,
                   count(*) FILTER (WHERE attempts > 0) AS failing,
                   coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE attempts > 0)), 0)::float8 AS failing_for,
                   (array_agg(last_error ORDER BY id DESC) FILTER (WHERE attempts > 0))[1] AS last_error
            FROM \(identifier: outbox.schema).outbox WHERE published_at IS NULL
            """
        )[0]
        backlog.record(try row.decode(Int.self, "backlog"))
        oldestAge.record(try row.decode(Double.self, "oldest"))
        let failing = try row.decode(Int.self, "failing")
        guard failing > 0 else {
            if state.value.status != .up { logger.info("outbox publishing again") }
            state.set(.up)
            return
        }
        let since = Int(try row.decode(Double.self, "failing_for"))
        let error = try row.decode(String?.self, "last_error") ?? "unknown"
        state.set(.degraded, "\(failing) event(s) not taken by the broker for \(since) s; last error: \(error)")
        if warnings.allows() {
            logger.warning("outbox events are not being published", metadata: ["outbox.failing": "\(failing)", "error": "\(error)"])
        }
    }

    /// What a publish result means to the outbox: `nil` once the broker took the event, or dropped it because no
    /// queue is bound for it (nobody subscribes to its routing key, and sending it again would not change that:
    /// counted and reported, so that a missing binding shows); the error when it must be sent again.
    private func failure(of result: Result<Void, AMQPError>, publishing publication: AMQPConnection.Publication) -> AMQPError? {
        switch result {
        case .success:
            return nil
        case .failure(let error) where error.code == .unroutable:
            unroutable.increment()
            reportUnroutable(publication, error)
            return nil
        case .failure(let error):
            return error
        }
    }

    /// Logs an event no queue was bound for at debug level, and at notice level at most every ten minutes.
    private func reportUnroutable(_ publication: AMQPConnection.Publication, _ error: AMQPError) {
        let metadata: Logger.Metadata = [
            "amqp.exchange": "\(publication.exchange)", "amqp.routing_key": "\(publication.routingKey)", "error": "\(error)",
        ]
        let due = lastUnroutableReport.withLock { last in
            guard last.map({ ContinuousClock.now - $0 >= .seconds(600) }) ?? true else { return false }
            last = .now
            return true
        }
        if due {
            logger.notice("events without subscribers are dropped by the broker (counted in orderly_outbox_unroutable_total)", metadata: metadata)
        } else {
            logger.debug("outbox event had no subscriber", metadata: metadata)
        }
    }

    /// The message of an outbox row: its envelope as written, with the properties from its columns (rows
    /// written before the columns existed are read from their envelope).
    static func message(_ row: PostgresRow) throws -> AMQPMessage {
        let envelope = try row.decode(String.self, "envelope")
        guard let type = try row.decode(String?.self, "event_type") else {
            return try CloudEvent(json: Data(envelope.utf8)).amqpMessage()
        }
        return CloudEvent.amqpMessage(
            body: Array(envelope.utf8), id: try row.decode(String.self, "message_id"), type: type, source: try row.decode(String.self, "source"),
            subject: try row.decode(String?.self, "subject"), time: try row.decode(Date.self, "event_time"),
            traceparent: try row.decode(String?.self, "traceparent"))
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
