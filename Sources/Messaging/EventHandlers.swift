import AMQP
import Foundation
import Logging
import Postgres
import Synchronization
import Telemetry

/// The handlers of a consumer, registered by event type with the payload type they decode:
///
/// ```swift
/// var handlers = EventHandlers()
/// handlers.on("order.placed", as: OrderPlaced.self) { context in try await charge(context) }
/// handlers.on("order.cancelled", as: OrderOutcome.self, batch: cancelAll)
/// ```
///
/// An `each` handler sees one event at a time; a `batch` handler sees every event of its type in
/// the batch at once, in delivery order, and can change many rows with one statement. Either way
/// they run in the batch's one transaction, together with the inbox records and the events emitted.
public struct EventHandlers: Sendable {
    struct Entry: Sendable {
        var decode: @Sendable (CloudEvent) throws(EnvelopeError) -> any Sendable
        var run: @Sendable ([Prepared], BatchContext) async throws -> Void
    }

    private(set) var entries: [String: Entry] = [:]

    public init() {}

    /// The event types handled.
    public var types: [String] { entries.keys.sorted() }

    /// Handles events of `type`, one after another, each decoded as `payload`.
    public mutating func on<Payload: Decodable & Sendable>(
        _ type: String, as payload: Payload.Type = Payload.self, each handle: @escaping @Sendable (EventContext<Payload>) async throws -> Void
    ) {
        on(type, as: payload) { (events: [EventContext<Payload>]) in
            for event in events { try await handle(event) }
        }
    }

    /// Handles every event of `type` in a batch at once, in delivery order, each decoded as `payload`.
    public mutating func on<Payload: Decodable & Sendable>(
        _ type: String, as payload: Payload.Type = Payload.self, batch handle: @escaping @Sendable ([EventContext<Payload>]) async throws -> Void
    ) {
        entries[type] = Entry(
            decode: { event throws(EnvelopeError) in try event.decodeData(as: Payload.self) },
            run: { prepared, batch in
                try await handle(prepared.map { EventContext(prepared: $0, payload: $0.payload as! Payload, batch: batch) })
            })
    }
}

/// A payload that is not read: for handlers that need only the envelope.
public struct AnyPayload: Decodable, Sendable {
    public init(from decoder: any Decoder) throws {}
}

/// A delivery read and decoded, ready for its handler.
struct Prepared: Sendable {
    var delivery: AMQPDelivery
    var event: CloudEvent
    var payload: any Sendable
    var attempt: Int
    var logger: Logger
    /// The span of its handling, once ``ConsumerInstrumentation/begin(_:)`` started it.
    var trace: HandlingTrace?
}

/// What a handler gets for one event: the event and its payload, the transaction to make its changes
/// in, and the means to emit events that are published only if that transaction commits.
public struct EventContext<Payload: Sendable>: Sendable {
    public let event: CloudEvent
    public let payload: Payload
    /// Which attempt this is, from 1; above 1 the event was retried through a tier.
    public let attempt: Int
    /// Whether the broker delivered this message before without an acknowledgement: the consumer
    /// that had it may have crashed halfway through, after effects outside the database.
    public let redelivered: Bool
    /// Carries `message.id`, `event.type`, `event.subject`, `trace.id` and `span.id`.
    public let logger: Logger
    /// The W3C `traceparent` of this event's handling: a span that is the child of the event's own, in
    /// the same trace. Every event emitted here carries it.
    public let traceparent: String?
    let batch: BatchContext

    init(prepared: Prepared, payload: Payload, batch: BatchContext) {
        event = prepared.event
        self.payload = payload
        attempt = prepared.attempt
        redelivered = prepared.delivery.redelivered
        logger = prepared.logger
        traceparent = prepared.trace?.traceparent ?? prepared.event.traceparent
        self.batch = batch
    }

    /// The logger, with the order this handler is about.
    public func logger(for orderID: String) -> Logger {
        var logger = self.logger
        logger[metadataKey: LogKey.orderID] = "\(orderID)"
        return logger
    }

    /// The batch's transaction: every change of the handler goes here.
    public var transaction: PostgresTransaction { batch.transaction }

    /// Whether an earlier handling of this message may have had effects outside the database (a
    /// charge at the gateway): a retry through a tier or a redelivery by the broker.
    public var mayHaveRunBefore: Bool { attempt > 1 || redelivered }

    /// Emits an event of `type` about `subject` on the service's exchange, carrying the trace context of
    /// this event's handling (``traceparent``); it is written to the outbox with the batch and published after the commit.
    public func emit(_ type: String, subject: String, payload: some Encodable) throws {
        batch.append(
            OutgoingEvent(
                try CloudEvent(source: batch.source, type: type, subject: subject, traceparent: traceparent, payload: payload),
                exchange: batch.exchange))
    }

    /// Emits events already built, through the outbox.
    public func emit(_ events: [OutgoingEvent]) { batch.append(events) }

    /// Takes this event out of the batch: nothing it changed may be written (call it before writing),
    /// and it is retried through the tiers or parked as `error` says, while the rest of the batch commits.
    public func reject(_ error: any Error) { batch.reject(event.id, error) }
}

/// The state of one batch's transaction, shared by its handlers.
public final class BatchContext: Sendable {
    public let transaction: PostgresTransaction
    let source: String
    let exchange: String
    private let state = Mutex<(emitted: [OutgoingEvent], rejected: [String: any Error])>(([], [:]))

    init(transaction: PostgresTransaction, source: String, exchange: String) {
        self.transaction = transaction
        self.source = source
        self.exchange = exchange
    }

    func append(_ event: OutgoingEvent) { state.withLock { $0.emitted.append(event) } }
    func append(_ events: [OutgoingEvent]) { state.withLock { $0.emitted.append(contentsOf: events) } }
    func reject(_ id: String, _ error: any Error) { state.withLock { $0.rejected[id] = error } }

    var emitted: [OutgoingEvent] { state.withLock { $0.emitted } }
    var rejected: [String: any Error] { state.withLock { $0.rejected } }
}
