import AMQP
import Foundation
import Messaging
import Testing

/// Binary content mode: the attributes in headers, the data alone in the body, as the CloudEvents
/// RabbitMQ binding (`ce-`) and AMQP binding (`cloudEvents_`, `cloudEvents:`) write them.
struct CloudEventBinaryModeTests {
    static let data = Array(#"{"sku":"SKU-1","delta":5}"#.utf8)

    static func properties(prefix: String = "ce-", contentType: String? = "application/json", _ extra: AMQPTable = [:]) -> AMQPProperties {
        var headers: AMQPTable = [
            prefix + "specversion": "1.0", prefix + "id": "e-1", prefix + "source": "/warehouse", prefix + "type": "stock.adjusted",
            prefix + "subject": "SKU-1", prefix + "time": "2026-12-02T10:00:00.5Z",
        ]
        headers.merge(extra) { $1 }
        return AMQPProperties(contentType: contentType, headers: headers)
    }

    @Test(arguments: CloudEvent.binaryModePrefixes)
    func everyBindingsPrefixIsRead(prefix: String) throws {
        let event = try CloudEvent(body: Self.data, properties: Self.properties(prefix: prefix))
        #expect(event.id == "e-1")
        #expect(event.source == "/warehouse")
        #expect(event.type == "stock.adjusted")
        #expect(event.subject == "SKU-1")
        #expect(event.time == Date(timeIntervalSince1970: 1_796_205_600.5))
        #expect(Array(event.data) == Self.data, "the data travels as its bytes")
    }

    @Test func theAMQPBindingsTimestampIsATime() throws {
        let time = Date(timeIntervalSince1970: 1_796_205_600)
        let event = try CloudEvent(body: Self.data, properties: Self.properties(prefix: "cloudEvents_", ["cloudEvents_time": .timestamp(time)]))
        #expect(event.time == time)
    }

    @Test func aStructuredEventWithStrayHeadersIsStillReadAsStructured() throws {
        let structured = try CloudEvent(id: "e-9", source: "/tests", type: "stock.adjusted", subject: "SKU-1", payload: ["sku": "SKU-1"]).amqpMessage(
            headers: ["ce-specversion": "1.0"])
        let event = try CloudEvent(body: structured.body, properties: structured.properties)
        #expect(event.id == "e-9")
    }

    @Test(arguments: [
        (Self.properties(["ce-specversion": "0.3"]), data, "unsupported CloudEvents specversion '0.3', expected 1.0"),
        (Self.properties(contentType: "text/plain"), data, "unsupported datacontenttype 'text/plain', expected application/json"),
        (Self.properties(["ce-id": ""]), data, "CloudEvents attribute 'id' must be a non-empty string"),
        (Self.properties(["ce-source": .int32(7)]), data, "CloudEvents attribute 'source' must be a non-empty string"),
        (Self.properties(["ce-time": "yesterday"]), data, "CloudEvents attribute 'time' is not an RFC 3339 time: yesterday"),
        (Self.properties(), Array("not json".utf8), "binary-mode data: the body is not JSON"),
    ])
    func whatIsWrongIsNamed(properties: AMQPProperties, body: [UInt8], reason: String) {
        #expect(throws: EnvelopeError(reason)) { try CloudEvent(body: body, properties: properties) }
    }

    @Test func aMissingAttributeIsNamed() {
        var properties = Self.properties()
        properties.headers["ce-type"] = nil
        #expect(throws: EnvelopeError("missing CloudEvents attribute 'type'")) { try CloudEvent(body: Self.data, properties: properties) }
    }

    @Test func theAMQPPropertiesMustAgreeWithTheHeaders() {
        var properties = Self.properties()
        properties.messageID = "other"
        #expect(throws: EnvelopeError("the AMQP message_id 'other' differs from the event id 'e-1'")) {
            try CloudEvent(body: Self.data, properties: properties)
        }
    }
}
