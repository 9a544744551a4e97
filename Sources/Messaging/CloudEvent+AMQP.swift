import AMQP
import Foundation

extension CloudEvent {
    /// The AMQP content type of a structured-mode CloudEvent.
    public static let contentType = "application/cloudevents+json"

    /// The event as a persistent AMQP message with the contract's properties: `message_id` = id,
    /// `type` = type, `correlation_id` = subject, a timestamp and a `traceparent` header.
    public func amqpMessage(headers: AMQPTable = [:]) -> AMQPMessage {
        Self.amqpMessage(
            body: Array(jsonData()), id: id, type: type, source: source, subject: subject, time: time, traceparent: traceparent, headers: headers)
    }

    /// An event already written as its structured-mode JSON `body`, as a persistent AMQP message with the
    /// contract's properties.
    static func amqpMessage(
        body: [UInt8], id: String, type: String, source: String, subject: String?, time: Date, traceparent: String?, headers: AMQPTable = [:]
    ) -> AMQPMessage {
        var headers = headers
        if let traceparent { headers["traceparent"] = .string(traceparent) }
        return AMQPMessage(
            body: body,
            properties: AMQPProperties(
                contentType: contentType, headers: headers, persistent: true, correlationID: subject, messageID: id, timestamp: time, type: type,
                appID: source
            )
        )
    }

    /// The largest body read as an event: the saga's events are a few kilobytes, and anything far
    /// larger is parked unread rather than parsed.
    public static let maxBodyBytes = 1 << 20

    /// Reads the event from a delivery's body.
    ///
    /// - Throws: ``EnvelopeError`` when the body is not a valid CloudEvent, or its `type` and `id`
    ///   disagree with the AMQP properties that carried it.
    public init(delivery: AMQPDelivery) throws(EnvelopeError) {
        try self.init(body: delivery.body, properties: delivery.properties)
    }

    /// The header prefixes of binary content mode: `ce-` (the RabbitMQ binding, which the SDKs' RabbitMQ
    /// support writes), `cloudEvents_` and `cloudEvents:` (the AMQP binding's application properties).
    public static let binaryModePrefixes = ["ce-", "cloudEvents_", "cloudEvents:"]

    /// Reads an event from a message that arrived from the broker, trusting nothing in it.
    ///
    /// Both content modes are read. Structured mode is the whole event as one JSON document in the body
    /// (what Orderly writes). Binary mode is each attribute in a header named with one of the
    /// ``binaryModePrefixes`` (the one `specversion` is found under), `content_type` as the data's content
    /// type, and the data alone as the body; it is taken for a message with such a `specversion` header
    /// whose content type is not `application/cloudevents+json`.
    ///
    /// - Throws: ``EnvelopeError`` when the body is larger than `maxBodyBytes`, is not a valid
    ///   CloudEvent, or its `type` and `id` disagree with the AMQP properties that carried it.
    public init(body: [UInt8], properties: AMQPProperties, maxBodyBytes: Int = CloudEvent.maxBodyBytes) throws(EnvelopeError) {
        guard body.count <= maxBodyBytes else {
            throw EnvelopeError("the body is \(body.count) bytes; events of more than \(maxBodyBytes) bytes are not read")
        }
        let structured = properties.contentType?.hasPrefix("application/cloudevents") ?? false
        if !structured, let prefix = Self.binaryModePrefixes.first(where: { properties.headers[$0 + "specversion"] != nil }) {
            try self.init(binary: body, properties: properties, prefix: prefix)
        } else {
            try self.init(json: Data(body))
        }
        if let type = properties.type, type != self.type {
            throw EnvelopeError("the AMQP type '\(type.truncatedForReason)' differs from the event type '\(self.type.truncatedForReason)'")
        }
        if let messageID = properties.messageID, messageID != id {
            throw EnvelopeError("the AMQP message_id '\(messageID.truncatedForReason)' differs from the event id '\(id.truncatedForReason)'")
        }
    }
}

extension CloudEvent {
    /// Reads a binary-mode event: its attributes from the headers named `prefix` + attribute, the data's
    /// content type from `content_type`, the data from the body, which must be JSON.
    init(binary body: [UInt8], properties: AMQPProperties, prefix: String) throws(EnvelopeError) {
        do {
            try JSONEnvelopeText.checkValue(body)
        } catch {
            throw EnvelopeError("binary-mode data: \(error.reason)")
        }
        try self.init(
            attributes: { name in
                if name == "datacontenttype" { return properties.contentType.map(Attribute.string) }
                switch properties.headers[prefix + name] {
                case nil: return nil
                case .string(let value): return .string(value)
                case .bytes(let bytes): return .string(String(decoding: bytes, as: UTF8.self))
                // The AMQP binding writes the time as an AMQP timestamp.
                case .timestamp(let date) where name == "time": return .string(Self.format(date))
                default: return .other
                }
            }, data: Data(body))
    }
}

extension String {
    /// At most 120 characters of a value quoted in a parking reason, so a hostile value cannot bloat the headers.
    var truncatedForReason: String { count <= 120 ? self : prefix(117) + "..." }
}
