import AMQP
import Foundation
import Messaging
import MessagingConventions
import Testing

@Suite struct CloudEventTests {
    struct Placed: Codable, Equatable {
        var orderID: String
        var totalCents: Int
    }

    @Test func anEventSurvivesTheTripThroughJSON() throws {
        let time = Date(timeIntervalSince1970: 1_790_000_000.123)
        let event = try CloudEvent(
            id: "e-1", source: "/orderly/order-service", type: "order.placed", subject: "o-1", time: time,
            traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", payload: Placed(orderID: "o-1", totalCents: 2500)
        )
        let decoded = try CloudEvent(json: event.jsonData())
        #expect(decoded.id == "e-1")
        #expect(decoded.type == "order.placed")
        #expect(decoded.subject == "o-1")
        #expect(decoded.traceparent == event.traceparent)
        #expect(abs(decoded.time.timeIntervalSince(time)) < 0.001)
        #expect(try decoded.decodeData(as: Placed.self) == Placed(orderID: "o-1", totalCents: 2500))
        let document = try JSONSerialization.jsonObject(with: event.jsonData()) as! [String: Any]
        #expect(document["specversion"] as? String == "1.0")
        #expect(document["datacontenttype"] as? String == "application/json")
        #expect((document["time"] as? String)?.hasSuffix("Z") == true)
    }

    @Test func theAMQPPropertiesFollowTheContract() throws {
        let event = try CloudEvent(id: "e-2", source: "/tests", type: "payment.succeeded", subject: "o-9", traceparent: "00-ab-cd-01", payload: [1])
        let properties = event.amqpMessage().properties
        #expect(properties.contentType == "application/cloudevents+json")
        #expect(properties.messageID == "e-2")
        #expect(properties.type == "payment.succeeded")
        #expect(properties.correlationID == "o-9")
        #expect(properties.persistent == true)
        #expect(properties.timestamp != nil)
        #expect(properties.headers["traceparent"] == "00-ab-cd-01")
    }

    @Test(arguments: [
        ("not json at all", "the body is not JSON"),
        ("[1,2]", "the body is JSON but not an object"),
        (#"{"specversion":"1.0","source":"/x","type":"t","data":{}}"#, "missing CloudEvents attribute 'id'"),
        (#"{"specversion":"0.3","id":"1","source":"/x","type":"t","data":{}}"#, "unsupported CloudEvents specversion '0.3', expected 1.0"),
        (#"{"specversion":"1.0","id":"","source":"/x","type":"t","data":{}}"#, "CloudEvents attribute 'id' must be a non-empty string"),
        (#"{"specversion":"1.0","id":"1","source":"/x","type":"t"}"#, "missing 'data'"),
        (
            #"{"specversion":"1.0","id":"1","source":"/x","type":"t","time":"yesterday","data":{}}"#,
            "CloudEvents attribute 'time' is not an RFC 3339 time: yesterday"
        ),
        (
            #"{"specversion":"1.0","id":"1","source":"/x","type":"t","datacontenttype":"text/xml","data":{}}"#,
            "unsupported datacontenttype 'text/xml', expected application/json"
        ),
    ])
    func aMalformedEnvelopeIsRejectedWithAPreciseReason(body: String, reason: String) {
        #expect(throws: EnvelopeError(reason)) { try CloudEvent(json: Data(body.utf8)) }
    }

    @Test func aPayloadWithAMissingFieldNamesIt() throws {
        let event = try CloudEvent(source: "/tests", type: "order.placed", subject: "o-1", payload: ["orderID": "o-1"])
        #expect(throws: EnvelopeError("the data of order.placed is not valid: missing field 'totalCents'")) {
            try event.decodeData(as: Placed.self)
        }
    }
}

@Suite struct RetryTopologyTests {
    let policy = RetryPolicy(tiers: [.seconds(1), .seconds(5), .seconds(30)])

    @Test func errorsAreSortedByWhatTheyAre() {
        #expect(FailureKind.of(PermanentFailure("declined")) == .permanent)
        #expect(FailureKind.of(EnvelopeError("not JSON")) == .permanent)
        #expect(FailureKind.of(AMQPError(.connectionLost, "gone")) == .transient)
        #expect(FailureKind.of(CancellationError()) == .transient)
    }

    @Test func theQueuesOfAServiceAreWiredBackToItsWorkQueue() {
        let queues = ServiceQueues(
            service: "payment", subscriptions: [.init(exchange: "orderly.orders", routingKeys: ["order.placed"])], retryPolicy: policy
        )
        let topology = queues.topology
        #expect(topology.queues.map(\.name) == ["payment", "payment.dead", "payment.retry.1s", "payment.retry.5s", "payment.retry.30s"])
        let retry = topology.queues[3]
        #expect(retry.arguments["x-message-ttl"] == .int64(5000))
        #expect(retry.arguments["x-dead-letter-routing-key"] == "payment")
        #expect(retry.arguments["x-dead-letter-strategy"] == "at-least-once")
        #expect(retry.arguments["x-overflow"] == "reject-publish")
        #expect(topology.queues.allSatisfy { $0.arguments["x-queue-type"] == "quorum" })
        #expect(topology.bindings == [.init(queue: "payment", exchange: "orderly.orders", routingKey: "order.placed")])
    }
}
