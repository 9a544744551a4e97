import AMQP
import Contracts
import Foundation
import Messaging
import MessagingConventions

/// Messages no service can handle, to be parked with a reason while the service goes on: malformed
/// JSON, an unknown type, a known type with a payload of the wrong shape, an oversized body, a hostile
/// header and a property that contradicts the body.
package struct PoisonMessage: Sendable, Hashable {
    /// What kind of poison, for the report.
    package var kind: String
    package var message: AMQPMessage
    package var exchange: String
    package var routingKey: String
    /// The parking queue it must end in.
    package var parkingQueue: String

    package var messageID: String { message.properties.messageID ?? "" }
}

extension PoisonMessage {
    /// A type each work queue handles, for poison that must get past the type check.
    static let handledType: [String: EventType] = [
        Subscriptions.order.workQueue: .paymentSucceeded, Subscriptions.payment.workQueue: .orderPlaced,
        Subscriptions.inventory.workQueue: .paymentSucceeded, Subscriptions.notification.workQueue: .orderCompleted,
    ]

    /// One of each kind straight into every service's work queue, and hostile ingress events on
    /// `orderly.ingress`; `tag` keeps the ids of one batch apart from another's.
    package static func all(tag: String) -> [PoisonMessage] {
        var poison: [PoisonMessage] = []
        for queues in Subscriptions.all {
            let queue = queues.workQueue
            let type = handledType[queue]!.rawValue
            func add(_ kind: String, _ build: (String) -> AMQPMessage) {
                let id = "poison-\(tag)-\(queue)-\(kind)"
                poison.append(PoisonMessage(kind: kind, message: build(id), exchange: "", routingKey: queue, parkingQueue: queues.parkingQueue))
            }
            add("malformed") { AMQPMessage("{\"specversion\": \"1.0\", \"id\": ", properties: properties(id: $0, type: nil)) }
            add("unknown-type") { envelope(id: $0, type: "chaos.unknown", data: #"{"x":1}"#) }
            add("wrong-schema") { envelope(id: $0, type: type, data: #"{"order_id":42,"unexpected":[true]}"#) }
            add("oversized") {
                AMQPMessage(
                    body: Array(repeating: UInt8(ascii: " "), count: CloudEvent.maxBodyBytes + 4096), properties: properties(id: $0, type: type))
            }
            add("hostile-header") {
                var message = envelope(id: $0, type: type, data: #"{"order_id":"x"}"#)
                message.properties.headers[MessageHeaders.attempts] = .int64(1 << 40)
                message.properties.headers["x-chaos-nested"] = .array([.array([.table(["deep": .timestamp(.distantFuture)])])])
                return message
            }
            add("hostile-property") {
                var message = envelope(id: $0, type: type, data: #"{"order_id":"x"}"#)
                message.properties.type = "chaos.other"
                message.properties.timestamp = Date(timeIntervalSince1970: 1.8446744073709552e19)
                return message
            }
        }
        // From another system, as the ingress user would publish: an invalid order, stock going negative.
        let invalidOrder = #"{"customer":{"id":"","email":"nobody"},"currency":"euro","items":[],"payment":{"token":""}}"#
        poison.append(
            PoisonMessage(
                kind: "invalid-order",
                message: envelope(id: "poison-\(tag)-ingress-invalid-order", type: EventType.orderRequested.rawValue, data: invalidOrder),
                exchange: Exchange.ingress, routingKey: EventType.orderRequested.rawValue, parkingQueue: Subscriptions.order.parkingQueue))
        let negative = #"{"sku":"CHAOS-POISON-\#(tag)","delta":-5,"reason":"shrinkage"}"#
        poison.append(
            PoisonMessage(
                kind: "negative-stock",
                message: envelope(id: "poison-\(tag)-ingress-negative-stock", type: EventType.stockAdjusted.rawValue, data: negative),
                exchange: Exchange.ingress, routingKey: EventType.stockAdjusted.rawValue, parkingQueue: Subscriptions.inventory.parkingQueue))
        poison.append(
            PoisonMessage(
                kind: "malformed-ingress",
                message: AMQPMessage("not json at all", properties: properties(id: "poison-\(tag)-ingress-malformed", type: nil)),
                exchange: Exchange.ingress, routingKey: EventType.orderRequested.rawValue, parkingQueue: Subscriptions.order.parkingQueue))
        return poison
    }

    static func properties(id: String, type: String?) -> AMQPProperties {
        AMQPProperties(contentType: CloudEvent.contentType, messageID: id, timestamp: Date(), type: type)
    }

    /// A structured CloudEvent written by hand, so that its data can be anything.
    static func envelope(id: String, type: String, data: String) -> AMQPMessage {
        let json = #"{"specversion":"1.0","id":"\#(id)","source":"/chaos","type":"\#(type)","subject":"chaos","data":\#(data)}"#
        return AMQPMessage(json, properties: properties(id: id, type: type))
    }
}
