import AMQP
import Contracts
import Foundation
import Messaging

/// A parked message in full, as `orderly dlq show` prints it: the summary order-service's API gives
/// too (``ParkedMessage``), every property and header as delivered (`x-death` included), and the body
/// (as JSON when it is JSON, else as text, else in base64).
///
/// Nothing in a parked message is trusted: a header of another type than expected is absent from the
/// summary and shown as it is among the headers.
package struct ParkedMessageDetail: Encodable, Sendable {
    package var summary: ParkedMessage
    /// The basic properties that are set, by their AMQP names (`content_type`, `message_id`, …).
    package var properties: [String: JSONValue]
    package var headers: [String: JSONValue]
    package var body: Body

    package enum Body: Encodable, Sendable {
        case json(JSONValue)
        case text(String)
        case base64(String)

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: BodyKeys.self)
            switch self {
            case .json(let value): try container.encode(value, forKey: .json)
            case .text(let text): try container.encode(text, forKey: .text)
            case .base64(let base64): try container.encode(base64, forKey: .base64)
            }
        }

        enum BodyKeys: String, CodingKey {
            case json, text, base64
        }
    }

    package init(properties: AMQPProperties, body: [UInt8]) {
        summary = ParkedMessage(properties: properties, bodyBytes: body.count)
        self.properties = Self.propertyTable(properties).mapValues(JSONValue.init)
        headers = properties.headers.mapValues(JSONValue.init)
        if let value = try? JSONDecoder().decode(JSONValue.self, from: Data(body)) {
            self.body = .json(value)
        } else if let text = String(validating: body, as: UTF8.self) {
            self.body = .text(text)
        } else {
            self.body = .base64(Data(body).base64EncodedString())
        }
    }

    package init(_ delivery: AMQPDelivery) { self.init(properties: delivery.properties, body: delivery.body) }

    /// The summary's fields, then `properties`, `headers` and `body`.
    package func encode(to encoder: any Encoder) throws {
        try summary.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(properties, forKey: .properties)
        try container.encode(headers, forKey: .headers)
        try container.encode(body, forKey: .body)
    }

    enum CodingKeys: String, CodingKey {
        case properties, headers, body
    }

    /// The basic properties that are set, by their AMQP names.
    static func propertyTable(_ properties: AMQPProperties) -> AMQPTable {
        var table: AMQPTable = [:]
        table["content_type"] = properties.contentType.map { .string($0) }
        table["content_encoding"] = properties.contentEncoding.map { .string($0) }
        table["delivery_mode"] = properties.persistent.map { .uint8($0 ? 2 : 1) }
        table["priority"] = properties.priority.map { .uint8($0) }
        table["correlation_id"] = properties.correlationID.map { .string($0) }
        table["reply_to"] = properties.replyTo.map { .string($0) }
        table["expiration"] = properties.expiration.map { .string($0) }
        table["message_id"] = properties.messageID.map { .string($0) }
        table["timestamp"] = properties.timestamp.map { .timestamp($0) }
        table["type"] = properties.type.map { .string($0) }
        table["user_id"] = properties.userID.map { .string($0) }
        table["app_id"] = properties.appID.map { .string($0) }
        return table
    }
}

extension JSONValue {
    /// An AMQP field value (a header, a property) as JSON: numbers as numbers, tables as objects, arrays
    /// as arrays, timestamps in ISO 8601, bytes as text when they are UTF-8 and base64 otherwise.
    package init(_ value: AMQPFieldValue) {
        switch value {
        case .bool(let flag): self = .bool(flag)
        case .uint64(let number): self = Int(exactly: number).map(JSONValue.integer) ?? .number(Double(number))
        case .float(let number): self = .number(Double(number))
        case .double(let number): self = .number(number)
        case .decimal(let scale, let value): self = .number(Double(value) / pow(10, Double(scale)))
        case .string(let text): self = .string(text)
        case .bytes(let bytes): self = .string(String(validating: bytes, as: UTF8.self) ?? Data(bytes).base64EncodedString())
        case .array(let values): self = .array(values.map(JSONValue.init))
        case .table(let table): self = .object(table.mapValues(JSONValue.init))
        case .timestamp(let date): self = .string(date.formatted(.iso8601))
        case .void: self = .null
        default: self = value.intValue.flatMap { Int(exactly: $0) }.map(JSONValue.integer) ?? .null
        }
    }
}
