import AMQP
import Foundation
import Logging
import Metrics
import Postgres
import ServiceLifecycle
import Synchronization

/// What a handler gets for one event: the event, the transaction to make its changes in, and a
/// way to emit events that are published only if that transaction commits.
public struct EventContext: Sendable {
    public let event: CloudEvent
    public let transaction: PostgresTransaction
    /// Which attempt this is, from 1; above 1 the event was retried through a tier.
    public let attempt: Int
    /// Whether the broker delivered this message before without an acknowledgement: the consumer
    /// that had it may have crashed halfway through, after effects outside the database.
    public let redelivered: Bool
    /// Carries `message.id`, `event.type` and `order.id` (the subject).
    public let logger: Logger
    let outbox: Outbox

    /// Whether an earlier handling of this message may have had effects outside the database (a
    /// charge at the gateway): a retry through a tier or a redelivery by the broker.
    public var mayHaveRunBefore: Bool { attempt > 1 || redelivered }

    /// Emits events through the outbox, in this handler's transaction.
    public func emit(_ events: [OutgoingEvent]) async throws {
        try await outbox.enqueue(events, in: transaction)
    }

    /// Emits one event through the outbox, in this handler's transaction.
    public func emit(_ event: CloudEvent, exchange: String) async throws {
        try await outbox.enqueue(event, exchange: exchange, in: transaction)
    }
}

/// Handles one event type. Throw a ``ClassifiedError`` to say whether a failure may pass.
public typealias EventHandler = @Sendable (EventContext) async throws -> Void

/// Consumes a service's work queue and runs each event's handler exactly once in effect.
///
/// For every delivery: the envelope is decoded (malformed → parked), the handler for its type is
/// found (unknown type → parked), and the handler runs in one database transaction together with
/// the inbox record and the events it emits. The delivery is acknowledged after the commit. A
/// duplicate finds its id in the inbox and is acknowledged without effect.
///
/// Nothing that arrives from the broker is trusted: a body too large or not a CloudEvent, a
/// property that contradicts the body, a header that is not what Orderly writes (an attempt count
/// of 2^40) — each parks the message with the reason, and the consumer goes on.
///
/// Deliveries are handled concurrently (up to `prefetch`), except that events with the same
/// subject — one order, one SKU — are handled one after the other, in the order delivered.
///
/// A failed handler is sorted by ``FailureKind``: a permanent failure is parked at once; a
/// transient one goes to the next retry tier (a queue whose TTL sends it back to the work queue
/// later) until the tiers run out, and is then parked. The message is never requeued in a loop.
///
/// Starting declares the queues and registers the consumer; while the broker refuses or is away,
/// it tries again with backoff and reports `down` in ``health``. On graceful shutdown the consumer
/// stops taking deliveries, finishes those in flight, acknowledges what committed, and returns.
public final class MessageConsumer: Service, HealthReporting, Sendable {
    public let queues: ServiceQueues
    let pool: PostgresPool
    let connection: AMQPConnection
    let handlers: [String: EventHandler]
    let inbox: Inbox
    let outbox: Outbox
    let prefetch: UInt16
    let logger: Logger
    /// Events about one subject are handled one at a time, in delivery order.
    let serializer = KeyedSerializer()
    /// Made once: looking metrics up per message would cost a registry lookup on the hot path.
    let outcomes: [Outcome: Counter]
    let duration: Timer
    private let state = HealthCell(name: "consumer", status: .down)
    private let registered = Registered()
    /// How long a retried or parked copy may take to be confirmed before the original is requeued.
    static let forwardTimeout: Duration = .seconds(10)

    /// - Parameters:
    ///   - schema: the service's PostgreSQL schema, holding its inbox and outbox.
    ///   - handlers: a handler per event type.
    ///   - prefetch: the most deliveries in flight at once.
    public init(
        queues: ServiceQueues, schema: String, pool: PostgresPool, connection: AMQPConnection,
        handlers: [String: EventHandler], prefetch: UInt16 = 32, logger: Logger
    ) {
        self.queues = queues
        self.pool = pool
        self.connection = connection
        self.handlers = handlers
        self.inbox = Inbox(schema: schema, consumer: queues.workQueue)
        self.outbox = Outbox(schema: schema)
        self.prefetch = prefetch
        var logger = logger
        logger[metadataKey: "amqp.queue"] = "\(queues.workQueue)"
        self.logger = logger
        outcomes = Dictionary(
            uniqueKeysWithValues: Outcome.allCases.map { outcome in
                (outcome, Counter(label: "orderly_messages_total", dimensions: [("queue", queues.workQueue), ("outcome", outcome.rawValue)]))
            })
        duration = Timer(label: "orderly_message_duration_seconds", dimensions: [("queue", queues.workQueue)])
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
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                // The broker sends at most `prefetch` unacknowledged deliveries, which bounds the tasks.
                for await delivery in consumer {
                    group.addTask { await self.process(delivery) }
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
        var lastReported = ContinuousClock.now - .seconds(3600)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
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
                if ContinuousClock.now - lastReported >= .seconds(60) {
                    lastReported = .now
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

    @discardableResult
    func process(_ delivery: AMQPDelivery) async -> Outcome {
        var logger = self.logger
        logger[metadataKey: "message.id"] = "\((delivery.properties.messageID ?? "-").truncatedForReason)"
        let start = ContinuousClock.now
        let outcome: Outcome
        // An unreadable attempt header parks the message, which counts as its first attempt.
        var attempt = 1
        do {
            attempt = try MessageHeaders.attempt(in: delivery.properties.headers)
            let event = try CloudEvent(delivery: delivery)
            logger[metadataKey: "event.type"] = "\(event.type)"
            logger[metadataKey: "event.subject"] = "\(event.subject ?? "-")"
            guard let handler = handlers[event.type] else {
                throw PermanentFailure("unknown event type '\(event.type)' for \(queues.workQueue)")
            }
            let context = { (transaction: PostgresTransaction) in
                EventContext(
                    event: event, transaction: transaction, attempt: attempt, redelivered: delivery.redelivered, logger: logger, outbox: self.outbox)
            }
            let handled = try await serializer.run(key: event.subject ?? event.id) {
                try await pool.transaction { transaction in
                    guard try await inbox.claim(event.id, in: transaction) else { return false }
                    try await handler(context(transaction))
                    return true
                }
            }
            delivery.ack()
            outcome = handled ? .handled : .duplicate
            logger.debug(handled ? "handled" : "duplicate ignored")
        } catch {
            let reason = (error as? EnvelopeError)?.reason ?? "\(error)"
            let kind = FailureKind.of(error)
            switch queues.retryPolicy.decide(attempt: attempt, kind: kind, reason: reason) {
            case .retry(let tier):
                logger.warning("handling failed; retrying later", metadata: ["error": "\(reason)", "attempt": "\(attempt)"])
                await forward(
                    delivery, to: queues.retryQueue(tier: tier),
                    headers: [MessageHeaders.attempts: .int64(Int64(attempt + 1)), MessageHeaders.lastError: .string(reason)])
                outcome = .retried
            case .park(let parkReason):
                logger.error("parked", metadata: ["reason": "\(parkReason)", "attempt": "\(attempt)"])
                await forward(
                    delivery, to: queues.parkingQueue,
                    headers: [
                        MessageHeaders.attempts: .int64(Int64(attempt)), MessageHeaders.lastError: .string(reason),
                        MessageHeaders.parkedReason: .string(parkReason), MessageHeaders.parkedAt: .timestamp(Date()),
                        MessageHeaders.failureKind: .string(kind.rawValue),
                    ])
                outcome = .parked
            }
        }
        outcomes[outcome]?.increment()
        duration.recordNanoseconds((ContinuousClock.now - start).nanoseconds)
        return outcome
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

extension Duration {
    var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}
