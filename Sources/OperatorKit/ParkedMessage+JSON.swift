import AMQP
import Contracts
import Foundation

extension ParkedMessage {
    /// The summary `orderly dlq list --json` prints for a message.
    public struct Summary: Encodable, Sendable {
        var messageID: String?
        var type: String?
        var reason: String?
        var attempts: Int64?
        var failureKind: String?
        var parkedAt: Date?
        var replays: Int64

        enum CodingKeys: String, CodingKey {
            case type, reason, attempts, replays
            case messageID = "message_id"
            case failureKind = "failure_kind"
            case parkedAt = "parked_at"
        }
    }

    public var summary: Summary {
        Summary(
            messageID: messageID, type: type, reason: reason, attempts: attempts, failureKind: failureKind, parkedAt: parkedAt, replays: replays)
    }

    /// Everything `orderly dlq show --json` prints for a message: the summary, every property and
    /// header, and the body (as JSON when it is JSON, else as text, else in base64).
    public struct Detail: Encodable, Sendable {
        var summary: Summary
        var properties: [String: JSONValue]
        var headers: [String: JSONValue]
        var body: Body

        enum Body: Encodable, Sendable {
            case json(JSONValue)
            case text(String)
            case base64(String)

            func encode(to encoder: any Encoder) throws {
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

        public func encode(to encoder: any Encoder) throws {
            try summary.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(properties, forKey: .properties)
            try container.encode(headers, forKey: .headers)
            try container.encode(body, forKey: .body)
        }

        enum CodingKeys: String, CodingKey {
            case properties, headers, body
        }
    }

    public var detail: Detail {
        let body: Detail.Body
        if let value = try? JSONDecoder().decode(JSONValue.self, from: Data(self.body)) {
            body = .json(value)
        } else if let text {
            body = .text(text)
        } else {
            body = .base64(Data(self.body).base64EncodedString())
        }
        return Detail(
            summary: summary, properties: propertyTable.mapValues(JSONValue.init), headers: properties.headers.mapValues(JSONValue.init),
            body: body)
    }

    /// The basic properties that are set, by their AMQP names.
    public var propertyTable: AMQPTable {
        var table: AMQPTable = [:]
        let properties = self.properties
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
    public init(_ value: AMQPFieldValue) {
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
