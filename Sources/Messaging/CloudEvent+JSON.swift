import Foundation

extension CloudEvent {
    static let specVersion = "1.0"
    static let dataContentType = "application/json"
    /// The longest attribute read: ids, types and subjects are keys of database indexes, which have a size limit.
    static let maxAttributeBytes = 512

    /// The structured-mode JSON document: the attributes in name order, then the payload spliced in
    /// as it is, so that the payload's bytes travel unchanged.
    public func jsonData() -> Data {
        var document: [UInt8] = []
        document.reserveCapacity(data.count + 320)
        var attributes: [(String, String)] = [
            ("datacontenttype", Self.dataContentType), ("id", id), ("source", source), ("specversion", Self.specVersion),
        ]
        if let subject { attributes.append(("subject", subject)) }
        attributes.append(("time", Self.format(time)))
        if let traceparent { attributes.append(("traceparent", traceparent)) }
        attributes.append(("type", type))
        document.append(UInt8(ascii: "{"))
        for (name, value) in attributes {
            JSONEnvelopeText.appendString(name, to: &document)
            document.append(UInt8(ascii: ":"))
            JSONEnvelopeText.appendString(value, to: &document)
            document.append(UInt8(ascii: ","))
        }
        document.append(contentsOf: #""data":"#.utf8)
        document.append(contentsOf: data)
        document.append(UInt8(ascii: "}"))
        return Data(document)
    }

    /// Reads a structured-mode JSON document, checking every required attribute.
    ///
    /// The payload is checked to be JSON and kept as its bytes; the handler that knows its type parses it.
    ///
    /// - Throws: ``EnvelopeError`` saying precisely what is wrong: not JSON, a missing or empty
    ///   attribute, another spec version, a payload that is not JSON.
    public init(json: Data) throws(EnvelopeError) {
        let members: [String: JSONEnvelopeText.Value]
        do {
            members = try JSONEnvelopeText.members(of: Array(json))
        } catch {
            throw EnvelopeError(error.reason)
        }
        let data: Data? =
            switch members["data"] {
            case nil: nil
            case .raw(let bytes): Data(bytes)
            case .string(let text): Data(JSONEnvelopeText.quoted(text))
            }
        try self.init(
            attributes: { name in
                switch members[name] {
                case nil: nil
                case .string(let value): .string(value)
                case .raw: .other
                }
            }, data: data)
    }

    /// An attribute as a mode carried it: a string, or a value of another kind (which the reason names).
    enum Attribute {
        case string(String)
        case other
    }

    /// An event from its attributes, however a mode carries them, and its data, checking every rule both modes share.
    ///
    /// - Throws: ``EnvelopeError`` for a missing or empty attribute, another spec version or content type, a
    ///   time that is not RFC 3339, or no data.
    init(attributes lookup: (String) -> Attribute?, data: Data?) throws(EnvelopeError) {
        func attribute(_ name: String, required: Bool = true) throws(EnvelopeError) -> String? {
            switch lookup(name) {
            case nil where !required: return nil
            case nil: throw EnvelopeError("missing CloudEvents attribute '\(name)'")
            case .string(let value) where value.utf8.count > Self.maxAttributeBytes:
                throw EnvelopeError("CloudEvents attribute '\(name)' is \(value.utf8.count) bytes; at most \(Self.maxAttributeBytes) are read")
            case .string(let value) where !value.isEmpty: return value
            default: throw EnvelopeError("CloudEvents attribute '\(name)' must be a non-empty string")
            }
        }
        if let version = try attribute("specversion"), version != Self.specVersion {
            throw EnvelopeError("unsupported CloudEvents specversion '\(version.truncatedForReason)', expected 1.0")
        }
        if let contentType = try attribute("datacontenttype", required: false), !contentType.hasPrefix(Self.dataContentType) {
            throw EnvelopeError("unsupported datacontenttype '\(contentType.truncatedForReason)', expected application/json")
        }
        let time: Date
        if let text = try attribute("time", required: false) {
            guard let parsed = Self.parse(text) else {
                throw EnvelopeError("CloudEvents attribute 'time' is not an RFC 3339 time: \(text.truncatedForReason)")
            }
            time = parsed
        } else {
            time = Date()
        }
        guard let data else { throw EnvelopeError("missing 'data'") }
        guard let id = try attribute("id"), let source = try attribute("source"), let type = try attribute("type") else {
            throw EnvelopeError("missing CloudEvents attribute")  // attribute(_:) throws first; kept total for the reader.
        }
        self.init(
            id: id, source: source, type: type, subject: try attribute("subject", required: false), time: time,
            traceparent: try attribute("traceparent", required: false), data: data
        )
    }
}
