import Contracts
import Foundation

extension JSONValue {
    /// Encodes `value` the way the services do (`JSONEncoder`) and decodes the result.
    package static func encoding(_ value: any Encodable) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: try JSONEncoder().encode(value))
    }

    package static func parsing(_ data: Data) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: data)
    }

    package var object: [String: JSONValue]? {
        guard case .object(let object) = self else { return nil }
        return object
    }
}
