import AMQP
import Foundation
import Logging
import MessagingConventions
import Postgres
import Synchronization
import Telemetry

/// The handlers of a consumer, each registered with the `Event` (MessagingConventions) it handles,
/// which names the type and the payload its data is decoded as:
///
/// ```swift
/// var handlers = EventHandlers()
/// handlers.on(.orderPlaced) { context in try await charge(context.payload) }
/// handlers.on(.orderCancelled, batch: cancelAll)
/// ```
///
/// An `each` handler sees one event at a time; a `batch` handler sees every event of its type in
/// the batch at once, in delivery order, and can change many rows with one statement. Either way
/// they run in the batch's one transaction, together with the inbox records and the events emitted.
public struct EventHandlers: Sendable {
    /// What the consumer knows of one handler: how to read a batch's events of its type.
    struct Entry: Sendable {
        var decode: @Sendable ([Prepared]) -> DecodedGroup
    }

    /// A batch's events of one type, read: those whose data is unreadable, and the handler over the others.
    ///
    /// The payloads stay inside ``run`` with their type, so nothing casts them back.
    struct DecodedGroup: Sendable {
        /// The unreadable ones, by event id.
        var failures: [String: EnvelopeError]
        /// Runs the handler on `events` (events of this group with distinct ids), in their order; it skips the unreadable ones.
        var run: @Sendable (_ events: [Prepared], BatchContext) async throws -> Void
    }

    private(set) var entries: [String: Entry] = [:]

    public init() {}

    /// The event types handled.
    public var types: [String] { entries.keys.sorted() }

    /// Handles events of `event`'s type, one after another.
    public mutating func on<Payload: Decodable & Sendable>(
        _ event: Event<Payload>, each handle: @escaping @Sendable (EventContext<Payload>) async throws -> Void
    ) {
        on(event) { (events: [EventContext<Payload>]) in
            for event in events { try await handle(event) }
        }
    }

    /// Handles every event of `event`'s type in a batch at once, in delivery order.
    public mutating func on<Payload: Decodable & Sendable>(
        _ event: Event<Payload>, batch handle: @escaping @Sendable ([EventContext<Payload>]) async throws -> Void
    ) {
        register(event.type, decode: { event throws(EnvelopeError) in try event.decodeData(as: Payload.self) }, handle: handle)
    }

    /// Handles every event of `event`'s type in a batch at once without decoding its data: for handlers
    /// that read ``EventContext/event``'s data their own way, or need only the envelope.
    public mutating func on<Payload>(
        _ event: Event<Payload>, undecoded handle: @escaping @Sendable ([EventContext<AnyPayload>]) async throws -> Void
    ) {
        register(event.type, decode: { _ in AnyPayload() }, handle: handle)
    }

    private mutating func register<Payload: Sendable>(
        _ type: String, decode: @escaping @Sendable (CloudEvent) throws(EnvelopeError) -> Payload,
        handle: @escaping @Sendable ([EventContext<Payload>]) async throws -> Void
    ) {
        entries[type] = Entry { events in
            var payloads: [String: Payload] = [:]
            var failures: [String: EnvelopeError] = [:]
            for event in events {
                do throws(EnvelopeError) {
                    payloads[event.event.id] = try decode(event.event)
                } catch {
                    failures[event.event.id] = error
                }
            }
            return DecodedGroup(failures: failures) { [payloads] events, batch in
                try await handle(
                    events.compactMap { event in
                        payloads[event.event.id].map { EventContext(prepared: event, payload: $0, batch: batch) }
                    })
            }
        }
    }
}

/// A payload that is not read: for handlers that need only the envelope.
public struct AnyPayload: Decodable, Sendable {
    public init() {}
    public init(from decoder: any Decoder) throws {}
}

/// A delivery read as an event, ready for its handler.
struct Prepared: Sendable {
    var delivery: AMQPDelivery
    var event: CloudEvent
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

    /// Emits `event` about `subject` on the service's exchange, carrying the trace context of this
    /// event's handling (``traceparent``); it is written to the outbox with the batch and published after the commit.
    public func emit<Emitted: Encodable>(_ event: Event<Emitted>, subject: String, payload: Emitted) throws {
        batch.append(
            OutgoingEvent(
                try CloudEvent(source: batch.source, event: event, subject: subject, traceparent: traceparent, payload: payload),
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
