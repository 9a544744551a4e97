import AMQP
import Foundation
import Logging
import MessagingConventions
import Metrics
import Postgres
import ServiceLifecycle
import Synchronization
import Timing

/// Consumes a service's work queue in batches and runs each event's handler exactly once in effect.
///
/// Deliveries are taken in batches of whatever has arrived, up to `maxBatch` (and the prefetch); while
/// they arrive faster than they are handled, a batch lingers a few milliseconds for more (``BatchRhythm``),
/// so that one transaction and one commit serve many messages as the rate rises. Each is read and
/// checked first: its envelope decoded, its handler found, its payload decoded — a message that fails
/// here (malformed, unknown type, a payload of the wrong shape, a hostile header) is parked with the
/// reason and never reaches a handler. The rest run in **one** database transaction: one statement
/// records their ids in the inbox (a duplicate finds its id there and has no effect), the handlers
/// run by event type, the events they emit are written to the outbox with one statement, and one
/// commit makes it all durable. Then one acknowledgement with `multiple` settles the batch.
///
/// Events about one subject (an order, a SKU) are handled in delivery order: batches are handled one
/// after another, and within a batch a second event about a subject waits for a later round.
///
/// Failures: a handler that *rejects* an event (``EventContext/reject(_:)``) takes it out of the batch
/// while the rest commits; a handler that *throws* makes the whole batch roll back, and its events are
/// then handled one at a time, so that only the failing one fails. A failed event is sorted by
/// `FailureKind`: permanent → parked at once; transient → the next retry tier, until the tiers run out
/// and it is parked. Nothing is requeued in a loop.
///
/// Starting declares the queues and registers the consumer; while the broker refuses or is away, it
/// tries again with backoff and reports `down` in ``health``. On graceful shutdown it stops taking
/// deliveries, finishes the batch in hand and those already received, acknowledges what committed, and returns.
public final class MessageConsumer: Service, HealthReporting, Sendable {
    public let queues: ServiceQueues
    let pool: PostgresPool
    let connection: AMQPConnection
    let handlers: EventHandlers
    let inbox: Inbox
    let outbox: Outbox
    /// The CloudEvents `source` and the exchange of what the handlers emit.
    let source: String
    let exchange: String
    let prefetch: UInt16
    let maxBatch: Int
    /// When a batch closes: its size limit and linger.
    let rhythm: BatchRhythm
    let logger: Logger
    /// Made once: looking metrics up per message would cost a registry lookup on the hot path.
    let outcomes: [Outcome: Counter]
    let duration: Timer
    let batchSizes: Recorder
    /// Spans, and the metrics by event type.
    let instrumentation: ConsumerInstrumentation
    private let state = HealthCell(name: "consumer", status: .down)
    private let registered = Registered()
    /// How long a retried or parked copy may take to be confirmed before the original is requeued.
    static let forwardTimeout: Duration = .seconds(10)

    /// - Parameters:
    ///   - connection: the broker connection it consumes on and forwards retried and parked copies over.
    ///   - pool: the service's database, where each batch's handlers, inbox claims and outbox rows commit together.
    ///   - queues: the service's work queue, its retry tiers and its parking queue.
    ///   - handlers: what to do with each event type the queue receives.
    ///   - outbox: the service's outbox, in its PostgreSQL schema, which holds its inbox too.
    ///   - source: the CloudEvents `source` of the events the handlers emit.
    ///   - exchange: where the events the handlers emit are published.
    ///   - prefetch: the most deliveries in hand at once.
    ///   - maxBatch: the most deliveries handled in one transaction.
    ///   - linger: the longest a batch waits for more deliveries while they pour in (``BatchRhythm``).
    ///   - logger: where it reports, with the queue's name.
    public init(
        queues: ServiceQueues, outbox: Outbox, pool: PostgresPool, connection: AMQPConnection, handlers: EventHandlers, source: String,
        exchange: String, prefetch: UInt16 = 256, maxBatch: Int = 100, linger: Duration = BatchRhythm.defaultLinger, logger: Logger
    ) {
        self.queues = queues
        self.pool = pool
        self.connection = connection
        self.handlers = handlers
        self.inbox = Inbox(schema: outbox.schema, consumer: queues.workQueue)
        self.outbox = outbox
        self.source = source
        self.exchange = exchange
        self.prefetch = prefetch
        self.maxBatch = max(1, maxBatch)
        // A batch cannot hold more than the broker hands out unacknowledged.
        rhythm = BatchRhythm(limit: min(self.maxBatch, Int(max(1, prefetch))), linger: linger)
        var logger = logger
        logger[metadataKey: "amqp.queue"] = "\(queues.workQueue)"
        self.logger = logger
        outcomes = Dictionary(
            uniqueKeysWithValues: Outcome.allCases.map { outcome in
                (outcome, Counter(label: "orderly_messages_total", dimensions: [("queue", queues.workQueue), ("outcome", outcome.rawValue)]))
            })
        duration = Timer(label: "orderly_batch_duration_seconds", dimensions: [("queue", queues.workQueue)])
        batchSizes = Recorder(label: "orderly_batch_size", dimensions: [("queue", queues.workQueue)])
        instrumentation = ConsumerInstrumentation(queue: queues.workQueue, types: handlers.types)
    }

    /// A consumer whose handlers' events go to the outbox of `schema`, published by its relay alone.
    public convenience init(
        queues: ServiceQueues, schema: String, pool: PostgresPool, connection: AMQPConnection, handlers: EventHandlers, source: String,
        exchange: String, prefetch: UInt16 = 256, maxBatch: Int = 100, linger: Duration = BatchRhythm.defaultLinger, logger: Logger
    ) {
        self.init(
            queues: queues, outbox: Outbox(schema: schema), pool: pool, connection: connection, handlers: handlers, source: source,
            exchange: exchange, prefetch: prefetch, maxBatch: maxBatch, linger: linger, logger: logger)
    }

    /// `down` until the consumer is registered, and while the broker does not deliver to it.
    public var health: ComponentHealth {
        var health = state.value
        if health.status == .up, let failure = registered.consumer?.failure {
            health.status = .down
            health.detail = "not consuming \(queues.workQueue): \(failure)"
        }
        return health
    }

    /// Declares the service's queues and consumes until cancelled or shut down gracefully.
    public func run() async throws {
        guard let consumer = await register() else { return }
        logger.info("consuming")
        let buffer = DeliveryBuffer<AMQPDelivery>()
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    for await delivery in consumer { buffer.append(delivery) }
                    buffer.finish()
                }
                var rhythm = self.rhythm
                while true {
                    let batch = await buffer.next(&rhythm)
                    guard !batch.isEmpty else { break }
                    await process(batch)
                }
            }
        } onGracefulShutdown: {
            consumer.cancel()
        }
        state.set(.down, "stopped")
        logger.info("stopped consuming")
    }

    /// Declares the queues and registers the consumer, trying again with backoff until it works;
    /// `nil` when the service shuts down first.
    private func register() async -> AMQPConsumer? {
        let backoff = Backoff(initial: .milliseconds(500), maximum: .seconds(30))
        var failures = 0
        var warnings = Throttle(every: .seconds(60))
        while !Task.isStopping {
            do {
                try await connection.declare(queues.topology)
                let consumer = try await connection.consume(queue: queues.workQueue, prefetch: prefetch)
                registered.consumer = consumer
                state.set(.up)
                if failures > 0 { logger.info("consuming after \(failures) failed attempts") }
                return consumer
            } catch {
                failures += 1
                state.set(.down, "cannot consume \(queues.workQueue): \(error)")
                if warnings.allows() {
                    logger.warning("cannot consume yet; trying again", metadata: ["error": "\(error)", "attempt": "\(failures)"])
                }
                let delay = backoff.delay(attempt: failures - 1)
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
            }
        }
        return nil
    }

    /// The outcome of one delivery, for metrics and tests.
    enum Outcome: String, CaseIterable {
        case handled, duplicate, retried, parked
    }

    /// Handles a batch in three steps: ``prepare(_:)`` reads and checks every delivery, ``commit(_:)`` runs
    /// the good ones in one transaction, and ``settle(_:_:)`` forwards the failures and acknowledges the rest.
    @discardableResult
    func process(_ deliveries: [AMQPDelivery]) async -> [Outcome] {
        let start = ContinuousClock.now
        var batch = prepare(deliveries)
        instrumentation.begin(&batch.events)
        let committed = await commit(batch)
        let settled = await settle(batch, committed)
        for outcome in settled { self.outcomes[outcome]?.increment() }
        duration.recordNanoseconds((ContinuousClock.now - start).nanoseconds)
        batchSizes.record(deliveries.count)
        return settled
    }

    /// A delivery that goes to a retry tier or the parking queue, and why.
    private struct Failure {
        var delivery: AMQPDelivery
        var attempt: Int
        var error: any Error
    }

    /// A batch read and checked, before its transaction.
    private struct PreparedBatch {
        /// The events to handle: readable, of a type handled here, each id once, their data decoded.
        var events: [Prepared] = []
        /// Each type's decoded data, by event id.
        var groups: [String: EventHandlers.DecodedGroup] = [:]
        /// What cannot be handled: unreadable, unknown, undecodable.
        var failures: [Failure] = []
        /// The second and later deliveries of an event id already in the batch.
        var duplicates: [AMQPDelivery] = []
    }

    /// What the transaction made of a batch's events.
    private struct Committed {
        /// Event ids handled now, or found in the inbox (`.duplicate`).
        var outcomes: [String: Outcome] = [:]
        /// Events a handler rejected, or whose transaction failed.
        var failures: [Failure] = []
    }

    private func prepare(_ deliveries: [AMQPDelivery]) -> PreparedBatch {
        var batch = PreparedBatch()
        var seen: Set<String> = []
        for delivery in deliveries {
            switch prepare(delivery) {
            case .success(let event) where seen.insert(event.event.id).inserted:
                batch.events.append(event)
            case .success(let event):
                // The same event twice in one batch: the first one counts, the second is a duplicate.
                batch.duplicates.append(event.delivery)
            case .failure(let failure):
                batch.failures.append(Failure(delivery: delivery, attempt: failure.attempt, error: failure.error))
            }
        }
        batch.groups = decode(batch.events)
        batch.events = batch.events.filter { event in
            guard let error = batch.groups[event.event.type]?.failures[event.event.id] else { return true }
            batch.failures.append(Failure(delivery: event.delivery, attempt: event.attempt, error: error))
            return false
        }
        return batch
    }

    /// Runs the batch's events in one transaction; when it fails, each event alone, so that only the culprit fails.
    private func commit(_ batch: PreparedBatch) async -> Committed {
        var committed = Committed()
        guard !batch.events.isEmpty else { return committed }
        do {
            let result = try await handle(batch.events, batch.groups)
            for event in batch.events {
                committed.outcomes[event.event.id] = result.fresh.contains(event.event.id) ? .handled : .duplicate
                if let error = result.rejected[event.event.id] {
                    committed.failures.append(Failure(delivery: event.delivery, attempt: event.attempt, error: error))
                }
            }
        } catch {
            guard batch.events.count > 1 else {
                let event = batch.events[0]
                committed.failures.append(Failure(delivery: event.delivery, attempt: event.attempt, error: error))
                return committed
            }
            logger.debug("batch failed; handling its events one at a time", metadata: ["error": "\(error)"])
            for event in batch.events {
                do {
                    let result = try await handle([event], batch.groups)
                    committed.outcomes[event.event.id] = result.fresh.isEmpty ? .duplicate : .handled
                    if let error = result.rejected[event.event.id] {
                        committed.failures.append(Failure(delivery: event.delivery, attempt: event.attempt, error: error))
                    }
                } catch {
                    committed.failures.append(Failure(delivery: event.delivery, attempt: event.attempt, error: error))
                }
            }
        }
        return committed
    }

    /// Forwards every failure to its retry tier or the parking queue, then acknowledges the rest at once.
    private func settle(_ batch: PreparedBatch, _ committed: Committed) async -> [Outcome] {
        let failures = batch.failures + committed.failures
        var settled: [Outcome] = []
        for failure in failures {
            let outcome = await fail(failure.delivery, attempt: failure.attempt, error: failure.error)
            settled.append(outcome)
            instrumentation.settled(failure.delivery, outcome, among: batch.events)
        }
        // Everything before the highest delivery handled is settled now (the failures were forwarded and
        // acknowledged one by one), so one acknowledgement covers the batch.
        let failed = Set(failures.map(\.delivery.deliveryTag))
        let handled = batch.events.filter { !failed.contains($0.delivery.deliveryTag) }
        AMQPDelivery.ackAll(handled.map(\.delivery) + batch.duplicates)
        for event in handled {
            let outcome = committed.outcomes[event.event.id] ?? .handled
            settled.append(outcome)
            instrumentation.settled(event, outcome)
        }
        settled += batch.duplicates.map { _ in .duplicate }
        for delivery in batch.duplicates { instrumentation.settled(delivery, .duplicate, among: []) }
        return settled
    }

    private struct PrepareFailure: Error {
        var attempt: Int
        var error: any Error
    }

    /// Reads a delivery as an event of a type handled here, trusting nothing in it.
    private func prepare(_ delivery: AMQPDelivery) -> Result<Prepared, PrepareFailure> {
        var logger = self.logger
        logger[metadataKey: "message.id"] = "\((delivery.properties.messageID ?? "-").truncatedForReason)"
        // An unreadable attempt header parks the message, which counts as its first attempt.
        var attempt = 1
        do {
            attempt = try MessageHeaders.attempt(in: delivery.properties.headers)
            let event = try CloudEvent(delivery: delivery)
            logger[metadataKey: "event.type"] = "\(event.type)"
            logger[metadataKey: "event.subject"] = "\(event.subject ?? "-")"
            guard handlers.entries[event.type] != nil else {
                throw PermanentFailure("unknown event type '\(event.type)' for \(queues.workQueue)")
            }
            return .success(Prepared(delivery: delivery, event: event, attempt: attempt, logger: logger))
        } catch {
            return .failure(PrepareFailure(attempt: attempt, error: error))
        }
    }

    /// Reads the data of events with distinct ids, each type by its handler.
    private func decode(_ events: [Prepared]) -> [String: EventHandlers.DecodedGroup] {
        Self.byType(events).reduce(into: [:]) { groups, group in groups[group.0] = handlers.entries[group.0]?.decode(group.1) }
    }

    /// Runs events in one transaction: inbox, handlers by rounds and types, outbox, commit.
    private func handle(
        _ events: [Prepared], _ groups: [String: EventHandlers.DecodedGroup]
    ) async throws -> (fresh: Set<String>, rejected: [String: any Error]) {
        try await pool.transaction { transaction in
            let fresh = try await inbox.claim(events.map(\.event.id), in: transaction)
            let batch = BatchContext(transaction: transaction, source: source, exchange: exchange)
            for round in Self.rounds(events.filter { fresh.contains($0.event.id) }) {
                for (type, group) in Self.byType(round) {
                    try await instrumentation.handling(type) { try await groups[type]!.run(group, batch) }
                }
            }
            let rejected = batch.rejected
            if !rejected.isEmpty { try await inbox.release(Array(rejected.keys), in: transaction) }
            try await outbox.enqueue(batch.emitted, in: transaction)
            return (fresh.subtracting(rejected.keys), rejected)
        }
    }

    /// Splits events so that no subject appears twice in one round; each round keeps delivery order.
    static func rounds(_ events: [Prepared]) -> [[Prepared]] {
        var rounds: [[Prepared]] = []
        var depth: [String: Int] = [:]
        for event in events {
            let key = event.event.subject ?? event.event.id
            let round = depth[key, default: 0]
            depth[key] = round + 1
            if round == rounds.count { rounds.append([]) }
            rounds[round].append(event)
        }
        return rounds
    }

    /// Groups a round by event type, the types in order of first appearance.
    static func byType(_ events: [Prepared]) -> [(String, [Prepared])] {
        var order: [String] = []
        var groups: [String: [Prepared]] = [:]
        for event in events {
            if groups[event.event.type] == nil { order.append(event.event.type) }
            groups[event.event.type, default: []].append(event)
        }
        return order.map { ($0, groups[$0]!) }
    }

    /// Sends a failed delivery to its next retry tier or to the parking queue, as its failure says.
    private func fail(_ delivery: AMQPDelivery, attempt: Int, error: any Error) async -> Outcome {
        var logger = instrumentation.logger(self.logger, for: delivery)
        logger[metadataKey: "message.id"] = "\((delivery.properties.messageID ?? "-").truncatedForReason)"
        let reason = (error as? EnvelopeError)?.reason ?? "\(error)"
        let kind = FailureKind.of(error)
        switch queues.retryPolicy.decide(attempt: attempt, kind: kind, reason: reason) {
        case .retry(let tier):
            logger.warning("handling failed; retrying later", metadata: ["error": "\(reason)", "attempt": "\(attempt)"])
            await forward(
                delivery, to: queues.retryQueue(tier: tier),
                headers: [MessageHeaders.attempts: .int64(Int64(attempt + 1)), MessageHeaders.lastError: .string(reason)])
            return .retried
        case .park(let parkReason):
            logger.error("parked", metadata: ["reason": "\(parkReason)", "attempt": "\(attempt)"])
            await forward(
                delivery, to: queues.parkingQueue,
                headers: [
                    MessageHeaders.attempts: .int64(Int64(attempt)), MessageHeaders.lastError: .string(reason),
                    MessageHeaders.parkedReason: .string(parkReason), MessageHeaders.parkedAt: .timestamp(Date()),
                    MessageHeaders.failureKind: .string(kind.rawValue),
                ])
            return .parked
        }
    }

    /// Publishes a copy of the delivery to `queue` with extra headers, then acknowledges the original.
    ///
    /// If the copy cannot be published (the broker is away), the original is requeued after a
    /// pause instead; it is not lost, and not spun on.
    private func forward(_ delivery: AMQPDelivery, to queue: String, headers: AMQPTable) async {
        var properties = delivery.properties
        properties.headers.merge(headers) { _, new in new }
        if properties.headers[MessageHeaders.originalExchange] == nil {
            properties.headers[MessageHeaders.originalExchange] = .string(delivery.exchange)
            properties.headers[MessageHeaders.originalRoutingKey] = .string(delivery.routingKey)
        }
        properties.persistent = true
        do {
            try await connection.publish(
                AMQPMessage(body: delivery.body, properties: properties), exchange: "", routingKey: queue, timeout: Self.forwardTimeout)
            delivery.ack()
        } catch {
            logger.error("cannot forward a failed message; requeueing it", metadata: ["amqp.target": "\(queue)", "error": "\(error)"])
            try? await Task.sleep(for: .seconds(1))
            delivery.nack(requeue: true)
        }
    }
}

/// The registered consumer, once there is one, for the health report.
private final class Registered: Sendable {
    private let value = Mutex<AMQPConsumer?>(nil)

    var consumer: AMQPConsumer? {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}
