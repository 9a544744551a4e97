import Foundation

/// An order's identity: a UUID, written in lowercase wherever it appears (URLs, events, logs).
///
/// Events carry it as the string of their `order_id` (the contract types it as a string), so the
/// other services keep it as they received it; order-service, which makes it, works with this type.
package struct OrderID: Sendable, Hashable, Codable, LosslessStringConvertible {
    package let uuid: UUID

    /// A new, random order id.
    package init() { uuid = UUID() }

    package init(_ uuid: UUID) { self.uuid = uuid }

    /// The order id `text` spells (any letter case), or `nil` when it is not a UUID.
    package init?(_ text: String) {
        guard let uuid = UUID(uuidString: text) else { return nil }
        self.uuid = uuid
    }

    /// The canonical form: 36 lowercase characters.
    package var description: String { uuid.uuidString.lowercased() }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let id = OrderID(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not an order id (a UUID)")
        }
        self = id
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
