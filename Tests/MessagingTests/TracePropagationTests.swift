import AMQP
import Foundation
import Messaging
import MessagingConventions
import Postgres
import Synchronization
import Telemetry
import TestSupport
import Testing

/// The trace context through a real consumer: each handled event gets a span of its own, a child of the
/// event's `traceparent`, and what the handler emits carries that span's.
@Suite("Trace propagation through the consumer", .timeLimit(.minutes(1)))
struct TracePropagationTests {
    static let incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    /// What a handler saw: its context's traceparent and what its logger carries.
    final class Seen: Sendable {
        let values = Mutex<[String: (traceparent: String?, traceID: String?, spanID: String?)]>([:])
    }

    /// Handles `test.happened` by emitting `test.followed` about the same subject, and notes what it saw.
    static func following(_ seen: Seen) -> MessagingHarness.Handler {
        { context in
            seen.values.withLock {
                $0[context.event.id] = (
                    context.traceparent, context.logger[metadataKey: LogKey.traceID]?.description,
                    context.logger[metadataKey: LogKey.spanID]?.description
                )
            }
            try context.emit(Event<[String: String]>("test.followed"), subject: context.event.subject ?? "-", payload: ["after": context.event.id])
        }
    }

    /// The traceparent of each event in the outbox, by the id of the event it followed.
    static func emitted(_ harness: MessagingHarness) async throws -> [String: String?] {
        let rows = try await harness.pool.query("SELECT envelope, traceparent FROM \(identifier: harness.schema).outbox ORDER BY id")
        var emitted: [String: String?] = [:]
        for row in rows {
            let event = try CloudEvent(json: Data(try row.decode(String.self, 0).utf8))
            #expect(event.traceparent == (try row.decode(String?.self, 1)), "the column and the envelope agree")
            emitted[try event.decodeData(as: [String: String].self)["after"] ?? "-"] = event.traceparent
        }
        return emitted
    }

    @Test func anEmittedEventCarriesTheHandlingSpanAChildOfTheIncomingOne() async throws {
        let harness = try await MessagingHarness.make()
        let seen = Seen()
        var traced = try harness.event(subject: "order-1", id: "traced")
        traced.traceparent = Self.incoming
        let untraced = try harness.event(subject: "order-2", id: "untraced")
        try await running([harness.consumer(["test.happened": Self.following(seen)])]) {
            for event in [traced, untraced] {
                try await harness.connection.publish(event.amqpMessage(), exchange: harness.exchange, routingKey: event.type)
            }
            try await eventually { try await Self.emitted(harness).count == 2 }
        }
        let emitted = try await Self.emitted(harness)
        let incoming = try #require(TraceParent(Self.incoming))

        let child = try #require(emitted["traced"].flatMap { $0 }.flatMap { TraceParent($0) })
        #expect(child.traceIDText == incoming.traceIDText)
        #expect(child.parentID != incoming.parentID)
        let handler = try #require(seen.values.withLock { $0["traced"] })
        #expect(handler.traceparent == child.description)
        #expect(handler.traceID == incoming.traceIDText)
        #expect(handler.spanID == child.parentIDText)

        // An event without a trace starts one: what it emits carries a valid, new trace.
        let fresh = try #require(emitted["untraced"].flatMap { $0 }.flatMap { TraceParent($0) })
        #expect(fresh.traceIDText != incoming.traceIDText)
        #expect(seen.values.withLock { $0["untraced"]?.traceID } == fresh.traceIDText)
        try await harness.tearDown()
    }
}
