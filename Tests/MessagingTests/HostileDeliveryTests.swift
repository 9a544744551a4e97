import AMQP
import Foundation
import Messaging
import MessagingConventions
import TestSupport
import Testing

/// What anyone allowed to publish can send a consumer: every header and property from the broker is
/// untrusted input. Each hostile message is parked with a reason; none stops the consumer.
@Suite(.timeLimit(.minutes(2)))
struct HostileDeliveryTests {
    @Test func hostileHeadersPropertiesAndBodiesAreParkedAndTheConsumerGoesOn() async throws {
        let harness = try await MessagingHarness.make(tiers: [.milliseconds(100)])
        let handlers: [String: MessagingHarness.Handler] = [
            "test.happened": harness.recordEffect,
            "test.flaky": { _ in throw TransientFailure("try later") },
        ]
        func send(_ id: String, type: String = "test.happened", headers: AMQPTable = [:], tweak: (inout AMQPMessage) -> Void = { _ in }) async throws
        {
            var message = try harness.event(type, id: id).amqpMessage(headers: headers)
            tweak(&message)
            try await harness.connection.publish(message, exchange: harness.exchange, routingKey: type)
        }
        let hostile: [(String, AMQPTable)] = [
            ("attempts-2^40", [MessageHeaders.attempts: .int64(1 << 40)]),
            ("attempts-uint64-max", [MessageHeaders.attempts: .uint64(.max)]),
            ("attempts-negative", [MessageHeaders.attempts: .int8(-3)]),
            ("attempts-text", [MessageHeaders.attempts: .string("2")]),
        ]
        try await running([harness.consumer(handlers)]) {
            for (id, headers) in hostile { try await send(id, headers: headers) }
            // A timestamp at the end of UInt64 and a nested header table travel on through a retry tier and back.
            try await send(
                "far-future", type: "test.flaky", headers: ["nested": .array([.array([.table(["deep": .timestamp(Date.distantFuture)])])])]
            ) {
                $0.properties.timestamp = Date(timeIntervalSince1970: 1.8446744073709552e19)
            }
            try await send("type-mismatch") { $0.properties.type = "test.other" }
            try await send("oversized") { $0.body = Array(repeating: UInt8(ascii: " "), count: CloudEvent.maxBodyBytes + 1) }
            try await send("good")
            try await eventually(within: .seconds(20), "every hostile message parked") {
                try await harness.connection.status(ofQueue: harness.queues.parkingQueue).messageCount == 7
            }
        }
        #expect(try await harness.effects().map(\.id) == ["good"])
        let parked = try await harness.connection.consume(queue: harness.queues.parkingQueue).collect(7, within: .seconds(30))
        let reasons = Dictionary(
            uniqueKeysWithValues: parked.map {
                ($0.properties.messageID ?? "?", $0.properties.headers[MessageHeaders.parkedReason]?.stringValue ?? "")
            })
        for (id, _) in hostile {
            #expect(reasons[id]?.contains("header x-orderly-attempts must be a whole number") == true, "\(id): \(reasons[id] ?? "-")")
        }
        #expect(reasons["far-future"] == "gave up after 2 attempts: try later")
        #expect(reasons["type-mismatch"]?.contains("differs from the event type") == true)
        #expect(reasons["oversized"]?.contains("are not read") == true)
        for delivery in parked { delivery.ack() }
        try await harness.tearDown()
    }
}
