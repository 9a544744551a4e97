import ServiceKit

/// The invalid fields of a request body, each named.
package struct ValidationErrors: Error, Sendable, Equatable {
    package var errors: [Problem.FieldError]

    package init(errors: [Problem.FieldError]) { self.errors = errors }
}
