import Foundation

extension CloudEvent {
    static let specVersion = "1.0"
    static let dataContentType = "application/json"
    /// The longest attribute read: ids, types and subjects are keys of database indexes, which have a size limit.
    static let maxAttributeBytes = 512

    /// The structured-mode JSON document.
    public func jsonData() -> Data {
        var attributes: [String: String] = [
            "specversion": Self.specVersion, "id": id, "source": source, "type": type,
            "time": Self.format(time), "datacontenttype": Self.dataContentType,
        ]
        attributes["subject"] = subject
        attributes["traceparent"] = traceparent
        // The attributes are encoded as an object, then the payload is spliced in as it is, so
        // that the payload's bytes travel unchanged.
        var document = try! Self.jsonEncoder.encode(attributes)
        document.removeLast()
        document.append(contentsOf: Array(#","data":"#.utf8))
        document.append(data)
        document.append(UInt8(ascii: "}"))
        return document
    }

    /// Reads a structured-mode JSON document, checking every required attribute.
    ///
    /// - Throws: ``EnvelopeError`` saying precisely what is wrong: not JSON, a missing or empty
    ///   attribute, another spec version, a payload that is not JSON.
    public init(json: Data) throws(EnvelopeError) {
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: json, options: [.fragmentsAllowed]) as? [String: Any] else {
                throw EnvelopeError("the body is JSON but not an object")
            }
            object = parsed
        } catch let error as EnvelopeError {
            throw error
        } catch {
            throw EnvelopeError("the body is not JSON")
        }
        func attribute(_ name: String, required: Bool = true) throws(EnvelopeError) -> String? {
            switch object[name] {
            case nil where !required: return nil
            case nil: throw EnvelopeError("missing CloudEvents attribute '\(name)'")
            case let value as String where value.utf8.count > Self.maxAttributeBytes:
                throw EnvelopeError("CloudEvents attribute '\(name)' is \(value.utf8.count) bytes; at most \(Self.maxAttributeBytes) are read")
            case let value as String where !value.isEmpty: return value
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
        guard let payload = object["data"] else { throw EnvelopeError("missing 'data'") }
        let data: Data
        do {
            // Numbers JSON allows but Swift cannot hold (1e999) parse, and then refuse to be written.
            data = try JSONSerialization.data(withJSONObject: payload, options: [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes])
        } catch {
            throw EnvelopeError("'data' cannot be read as JSON: \(error.localizedDescription.truncatedForReason)")
        }
        guard let id = try attribute("id"), let source = try attribute("source"), let type = try attribute("type") else {
            throw EnvelopeError("missing CloudEvents attribute")  // attribute(_:) throws first; kept total for the reader.
        }
        self.init(
            id: id, source: source, type: type, subject: try attribute("subject", required: false), time: time,
            traceparent: try attribute("traceparent", required: false), data: data
        )
    }
}
