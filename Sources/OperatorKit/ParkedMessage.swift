import AMQP
import Foundation
import Messaging

/// A message in a service's parking queue, as the operator sees it: why, when and after how many
/// attempts it was parked, and everything it carries.
///
/// Read from the headers `MessageConsumer` writes when it parks a message (``MessageHeaders``) and
/// from those RabbitMQ adds when it dead-letters one (`x-death`). Nothing in a parked message is
/// trusted: a header of another type than expected reads as absent here and is shown as it is in
/// ``properties``.
public struct ParkedMessage: Sendable, Hashable {
    /// The AMQP `message_id`: the event id.
    public var messageID: String?
    /// The AMQP `type`: the event type.
    public var type: String?
    /// Why it was parked (`x-orderly-parked-reason`).
    public var reason: String?
    /// After how many attempts (`x-orderly-attempts`).
    public var attempts: Int64?
    /// When (`x-orderly-parked-at`).
    public var parkedAt: Date?
    /// `transient` (retries exhausted) or `permanent` (`x-orderly-failure-kind`).
    public var failureKind: String?
    /// How many times an operator sent it back to work before (``ReplayHeaders/replays``).
    public var replays: Int64
    /// Every property and header, as delivered.
    public var properties: AMQPProperties
    public var body: [UInt8]

    public init(properties: AMQPProperties, body: [UInt8]) {
        let headers = properties.headers
        self.messageID = properties.messageID
        self.type = properties.type
        self.reason = headers[MessageHeaders.parkedReason]?.stringValue
        self.attempts = headers[MessageHeaders.attempts]?.intValue
        self.parkedAt = headers[MessageHeaders.parkedAt]?.dateValue
        self.failureKind = headers[MessageHeaders.failureKind]?.stringValue
        self.replays = headers[ReplayHeaders.replays]?.intValue ?? 0
        self.properties = properties
        self.body = body
    }

    public init(_ delivery: AMQPDelivery) { self.init(properties: delivery.properties, body: delivery.body) }

    /// The body as text when it is UTF-8, else `nil`.
    public var text: String? { String(validating: body, as: UTF8.self) }
}

extension AMQPFieldValue {
    /// A timestamp, or a whole number of seconds since 1970.
    var dateValue: Date? {
        if case .timestamp(let date) = self { return date }
        return intValue.map { Date(timeIntervalSince1970: TimeInterval($0)) }
    }
}
