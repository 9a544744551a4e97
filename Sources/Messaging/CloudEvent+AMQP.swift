import AMQP
import Foundation

extension CloudEvent {
    /// The AMQP content type of a structured-mode CloudEvent.
    public static let contentType = "application/cloudevents+json"

    /// The event as a persistent AMQP message with the contract's properties: `message_id` = id,
    /// `type` = type, `correlation_id` = subject, a timestamp and a `traceparent` header.
    public func amqpMessage(headers: AMQPTable = [:]) -> AMQPMessage {
        var headers = headers
        if let traceparent { headers["traceparent"] = .string(traceparent) }
        return AMQPMessage(
            body: Array(jsonData()),
            properties: AMQPProperties(
                contentType: Self.contentType, headers: headers, persistent: true, correlationID: subject, messageID: id,
                timestamp: time, type: type, appID: source
            )
        )
    }

    /// Reads the event from a delivery's body.
    ///
    /// - Throws: ``EnvelopeError`` when the body is not a valid CloudEvent, or its `type` and `id`
    ///   disagree with the AMQP properties that carried it.
    public init(delivery: AMQPDelivery) throws(EnvelopeError) {
        try self.init(json: Data(delivery.body))
        if let type = delivery.properties.type, type != self.type {
            throw EnvelopeError("the AMQP type '\(type)' differs from the event type '\(self.type)'")
        }
        if let messageID = delivery.properties.messageID, messageID != id {
            throw EnvelopeError("the AMQP message_id '\(messageID)' differs from the event id '\(id)'")
        }
    }
}
