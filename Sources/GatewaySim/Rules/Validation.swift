import Contracts
import ServiceKit

/// Field checks shared by the request bodies.
enum Validation {
    /// Three capital ASCII letters.
    static func isCurrencyCode(_ text: String) -> Bool {
        text.utf8.count == 3 && text.utf8.allSatisfy { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }
    }

    /// An idempotency key is 1 to 255 printable ASCII characters.
    static func idempotencyKeyErrors(_ key: String?) -> [Problem.FieldError] {
        guard let key else { return [.init(field: "idempotency_key", message: "is required")] }
        let printable = key.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
        guard !key.isEmpty, key.utf8.count <= 255, printable else {
            return [.init(field: "idempotency_key", message: "must be 1 to 255 printable ASCII characters")]
        }
        return []
    }

    /// A text field holds no control character (NUL, which PostgreSQL cannot store, among them): the
    /// order request's own rule and message.
    static func controlCharacterErrors(_ field: String, _ text: String) -> [Problem.FieldError] {
        OrderValidation.hasControlCharacters(text) ? [.init(field: field, message: OrderValidation.controlCharacterMessage)] : []
    }
}
