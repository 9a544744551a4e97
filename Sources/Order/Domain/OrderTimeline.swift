import Contracts
import Foundation
import Messaging
import Telemetry
import Timing

/// Every event of an order's saga that order-service handled or emitted, in order: `GET /v1/orders/{id}/timeline`.
///
/// Made from the order's journal (``OrderStore/timeline(of:on:)``): who emitted each event (from its
/// CloudEvents `source`, else from the catalog's writer of its exchange), who handles it (order-service for
/// what it consumed; the catalog's consumers of its type), when it was emitted and recorded, what it did to
/// the order, and its trace. Events between other services that order-service does not consume
/// (`payment.refund_requested`, `notification.sent`) are not in it.
package struct OrderTimeline: Sendable, Hashable {
    /// What an event did to the order, as the journal records it.
    package enum Outcome: String, Sendable, Hashable, Encodable {
        /// A consumed event moved the order to another status.
        case moved
        /// A consumed event left the order as it was (a duplicate, a late event, one deferred).
        case ignored
        /// order-service emitted the event.
        case emitted
    }

    /// One journal row as stored.
    package struct Record: Sendable, Hashable {
        package var eventID: String
        package var eventType: String
        package var outcome: Outcome
        package var from: OrderStatus?
        package var to: OrderStatus?
        package var reason: String?
        package var source: String?
        package var eventTime: Date?
        package var traceparent: String?
        package var recordedAt: Date

        package init(
            eventID: String, eventType: String, outcome: Outcome, from: OrderStatus?, to: OrderStatus?, reason: String?, source: String?,
            eventTime: Date?, traceparent: String?, recordedAt: Date
        ) {
            self.eventID = eventID
            self.eventType = eventType
            self.outcome = outcome
            self.from = from
            self.to = to
            self.reason = reason
            self.source = source
            self.eventTime = eventTime
            self.traceparent = traceparent
            self.recordedAt = recordedAt
        }
    }

    /// One step of the timeline.
    package struct Entry: Sendable, Hashable {
        package var record: Record
        /// The process that emitted the event (`payment-service`), or `ingress` for another system's.
        package var emittedBy: String
        /// `order-service` for an event it handled; `nil` for one it emitted.
        package var handledBy: String?
        /// The processes whose work queues take events of this type.
        package var consumers: [String]
        /// When it happened: when it was emitted, else (rows journaled before event times were) when it was recorded.
        package var at: Date
        /// Since the timeline's start (the order's creation, or its first event if earlier).
        package var sinceStart: Duration
        /// Since the step before; `nil` for the first.
        package var sincePrevious: Duration?

        /// The trace id of its `traceparent`.
        package var traceID: String? { record.traceparent.flatMap(TraceParent.init)?.traceIDText }
    }

    package var orderID: OrderID
    package var status: OrderStatus
    /// The trace context the order was placed with, which its events carry on.
    package var traceparent: String
    package var createdAt: Date
    package var entries: [Entry]

    package var traceID: String? { TraceParent(traceparent)?.traceIDText }

    /// From the order's last step back to its creation.
    package var duration: Duration { entries.last.map { $0.sinceStart } ?? .zero }

    /// The "process" a timeline names for events other systems publish on `orderly.ingress`.
    package static let ingress = "ingress"
    static let orderService = SystemCatalog.order.name

    package init(orderID: OrderID, status: OrderStatus, traceparent: String, createdAt: Date, records: [Record]) {
        self.orderID = orderID
        self.status = status
        self.traceparent = traceparent
        self.createdAt = createdAt
        let times = records.map { $0.eventTime ?? $0.recordedAt }
        let start = min(createdAt, times.min() ?? createdAt)
        entries = zip(records, times).enumerated().map { index, pair in
            let (record, at) = pair
            return Entry(
                record: record, emittedBy: Self.emitter(of: record), handledBy: record.outcome == .emitted ? nil : Self.orderService,
                consumers: SystemCatalog.consumers(of: record.eventType).map(\.name), at: at, sinceStart: Self.between(start, at),
                sincePrevious: index == 0 ? nil : Self.between(times[index - 1], at))
        }
    }

    /// Who emitted the event of `record`: the catalog's process its `source` names, else the writer of its
    /// type's exchange, else `ingress` for what other systems publish (order-service for its own deadline).
    static func emitter(of record: Record) -> String {
        if let source = record.source, let service = SystemCatalog.service(emitting: source) { return service.name }
        if let service = SystemCatalog.emitter(of: record.eventType) { return service.name }
        if record.eventType == OrderEvent.deadlineExceeded.name { return orderService }
        if EventType(rawValue: record.eventType)?.exchange == Exchange.ingress { return ingress }
        return record.source ?? "unknown"
    }

    static func between(_ earlier: Date, _ later: Date) -> Duration {
        .milliseconds(Int64((later.timeIntervalSince(earlier) * 1000).rounded()))
    }
}

extension OrderTimeline: Encodable {
    enum CodingKeys: String, CodingKey {
        case status, traceparent, events
        case orderID = "order_id"
        case traceID = "trace_id"
        case createdAt = "created_at"
        case durationMilliseconds = "duration_ms"
    }

    enum EntryKeys: String, CodingKey {
        case type, outcome, source, consumers, at, reason, traceparent
        case eventID = "event_id"
        case emittedBy = "emitted_by"
        case handledBy = "handled_by"
        case eventTime = "event_time"
        case recordedAt = "recorded_at"
        case fromStatus = "from_status"
        case toStatus = "to_status"
        case traceID = "trace_id"
        case sinceStart = "since_start_ms"
        case sincePrevious = "since_previous_ms"
    }

    /// The contract's JSON: snake_case keys, every key present (`null` when unknown), times in RFC 3339 UTC,
    /// durations in whole milliseconds.
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(orderID.description, forKey: .orderID)
        try container.encode(status, forKey: .status)
        try container.encode(traceID, forKey: .traceID)
        try container.encode(traceparent, forKey: .traceparent)
        try container.encode(CloudEvent.format(createdAt), forKey: .createdAt)
        try container.encode(duration.milliseconds, forKey: .durationMilliseconds)
        var events = container.nestedUnkeyedContainer(forKey: .events)
        for entry in entries {
            var event = events.nestedContainer(keyedBy: EntryKeys.self)
            let record = entry.record
            try event.encode(record.eventID, forKey: .eventID)
            try event.encode(record.eventType, forKey: .type)
            try event.encode(record.outcome, forKey: .outcome)
            try event.encode(entry.emittedBy, forKey: .emittedBy)
            try event.encode(record.source, forKey: .source)
            try event.encode(entry.handledBy, forKey: .handledBy)
            try event.encode(entry.consumers, forKey: .consumers)
            try event.encode(CloudEvent.format(entry.at), forKey: .at)
            try event.encode(record.eventTime.map(CloudEvent.format), forKey: .eventTime)
            try event.encode(CloudEvent.format(record.recordedAt), forKey: .recordedAt)
            try event.encode(record.from, forKey: .fromStatus)
            try event.encode(record.to, forKey: .toStatus)
            try event.encode(record.reason, forKey: .reason)
            try event.encode(entry.traceID, forKey: .traceID)
            try event.encode(record.traceparent, forKey: .traceparent)
            try event.encode(entry.sinceStart.milliseconds, forKey: .sinceStart)
            try event.encode(entry.sincePrevious?.milliseconds, forKey: .sincePrevious)
        }
    }
}
