/// One invalid field of a request: where it is (`items[0].quantity`) and what is wrong with it.
public struct FieldViolation: Sendable, Hashable, CustomStringConvertible {
    /// The field's path in the JSON body, with dots between names and `[i]` for array elements.
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}
