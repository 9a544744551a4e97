import Foundation
import MessagingConventions

/// A CloudEvents 1.0 event in structured JSON mode: the envelope every Orderly message travels in.
///
/// `data` holds the payload as raw JSON, decoded by whoever knows its type (``decodeData(as:)``).
public struct CloudEvent: Sendable, Hashable {
    /// Unique per event; also the AMQP `message_id`, and the key of every consumer's inbox.
    public var id: String
    /// Who emitted it, as a URI reference (`/orderly/order-service`).
    public var source: String
    /// The event type, which is also its routing key (`order.placed`).
    public var type: String
    /// What the event is about: the order id, or the SKU.
    public var subject: String?
    public var time: Date
    /// The W3C trace context carried from the HTTP request through every hop.
    public var traceparent: String?
    /// The payload, as JSON text.
    public var data: Data

    public init(
        id: String = UUID().uuidString.lowercased(),
        source: String,
        type: String,
        subject: String?,
        time: Date = Date(),
        traceparent: String? = nil,
        data: Data
    ) {
        self.id = id
        self.source = source
        self.type = type
        self.subject = subject
        self.time = time
        self.traceparent = traceparent
        self.data = data
    }

    /// An event whose payload is `payload` encoded as JSON.
    public init(
        id: String = UUID().uuidString.lowercased(),
        source: String,
        type: String,
        subject: String?,
        time: Date = Date(),
        traceparent: String? = nil,
        payload: some Encodable
    ) throws {
        self.init(
            id: id, source: source, type: type, subject: subject, time: time, traceparent: traceparent,
            data: try CloudEvent.jsonEncoder.encode(payload)
        )
    }

    /// An event of `event`'s type whose payload, of the type that event carries, is encoded as JSON.
    public init<Payload: Encodable>(
        id: String = UUID().uuidString.lowercased(),
        source: String,
        event: Event<Payload>,
        subject: String?,
        time: Date = Date(),
        traceparent: String? = nil,
        payload: Payload
    ) throws {
        try self.init(id: id, source: source, type: event.type, subject: subject, time: time, traceparent: traceparent, payload: payload)
    }

    /// The payload decoded as `T`.
    ///
    /// - Throws: ``EnvelopeError`` naming the field that is missing or of the wrong type.
    public func decodeData<T: Decodable>(as type: T.Type) throws(EnvelopeError) -> T {
        do {
            return try CloudEvent.jsonDecoder.decode(T.self, from: data)
        } catch let error as DecodingError {
            throw EnvelopeError("the data of \(self.type) is not valid: \(error.reason)")
        } catch {
            throw EnvelopeError("the data of \(self.type) is not valid: \(error)")
        }
    }

    static let jsonEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(CloudEvent.format(date))
        }
        return encoder
    }()

    static let jsonDecoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = CloudEvent.parse(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an RFC 3339 time: \(text)")
            }
            return date
        }
        return decoder
    }()

    /// RFC 3339 with milliseconds, in UTC (`2026-11-21T16:20:00.123Z`).
    public static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// RFC 3339, with or without fractional seconds.
    public static func parse(_ text: String) -> Date? {
        (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text))
    }
}

/// Why a message is not a valid event; the reason is written into the parked message's headers.
public struct EnvelopeError: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String

    public init(_ reason: String) { self.reason = reason }

    public var description: String { reason }
}

extension DecodingError {
    /// Where and what, in words a parked message's reader understands.
    var reason: String {
        func path(_ context: Context) -> String {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return path.isEmpty ? "the document" : "'\(path)'"
        }
        switch self {
        case .keyNotFound(let key, let context):
            let parent = context.codingPath.isEmpty ? "" : " in \(path(context))"
            return "missing field '\(key.stringValue)'\(parent)"
        case .typeMismatch(let type, let context): return "\(path(context)) is not of type \(type)"
        case .valueNotFound(let type, let context): return "\(path(context)) is null, expected \(type)"
        case .dataCorrupted(let context): return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(self)"
        }
    }
}
