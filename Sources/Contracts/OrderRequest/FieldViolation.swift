/// One invalid field of a request: where it is (`items[0].quantity`) and what is wrong with it.
package struct FieldViolation: Sendable, Hashable, CustomStringConvertible {
    /// The field's path in the JSON body, with dots between names and `[i]` for array elements.
    package var field: String
    package var message: String

    package init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    package var description: String { "\(field): \(message)" }
}
