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

    /// Reads an event from a message that arrived from the broker, trusting nothing in it.
    ///
    /// - Throws: ``EnvelopeError`` when the body is larger than `maxBodyBytes`, is not a valid
    ///   CloudEvent, or its `type` and `id` disagree with the AMQP properties that carried it.
    public init(body: [UInt8], properties: AMQPProperties, maxBodyBytes: Int = CloudEvent.maxBodyBytes) throws(EnvelopeError) {
        guard body.count <= maxBodyBytes else {
            throw EnvelopeError("the body is \(body.count) bytes; events of more than \(maxBodyBytes) bytes are not read")
        }
        try self.init(json: Data(body))
        if let type = properties.type, type != self.type {
            throw EnvelopeError("the AMQP type '\(type.truncatedForReason)' differs from the event type '\(self.type.truncatedForReason)'")
        }
        if let messageID = properties.messageID, messageID != id {
            throw EnvelopeError("the AMQP message_id '\(messageID.truncatedForReason)' differs from the event id '\(id.truncatedForReason)'")
        }
    }
}

extension String {
    /// At most 120 characters of a value quoted in a parking reason, so a hostile value cannot bloat the headers.
    var truncatedForReason: String { count <= 120 ? self : prefix(117) + "..." }
}
