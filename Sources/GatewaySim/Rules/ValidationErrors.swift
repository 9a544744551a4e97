import ServiceKit

/// The invalid fields of a request body, each named.
public struct ValidationErrors: Error, Sendable, Equatable {
    public var errors: [Problem.FieldError]

    public init(errors: [Problem.FieldError]) { self.errors = errors }
}
