import Foundation

/// Why a body is not an acceptable order request.
package enum OrderRequestError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Not a JSON object at all (HTTP 400).
    case malformed(String)
    /// A JSON object with missing, mistyped or invalid fields, every one named (HTTP 422).
    case invalid([FieldViolation])

    package var description: String {
        switch self {
        case .malformed(let reason): reason
        case .invalid(let violations): "invalid fields: " + violations.map(\.description).joined(separator: "; ")
        }
    }
}

/// Reads an ``OrderRequest`` from JSON and validates it, naming every offending field at once.
///
/// Missing fields and fields of the wrong type are reported together with the rule violations of
/// ``OrderValidation``, one message per field. Pure.
package enum OrderRequestParser {
    /// The valid request in `json`.
    ///
    /// - Throws: ``OrderRequestError/malformed(_:)`` when the bytes are not a JSON object,
    ///   ``OrderRequestError/invalid(_:)`` when fields are missing, mistyped or break a rule.
    package static func parse(_ json: Data) throws(OrderRequestError) -> OrderRequest {
        let document: JSONValue
        do {
            document = try JSONDecoder().decode(JSONValue.self, from: json)
        } catch {
            throw .malformed("the body is not valid JSON")
        }
        guard case .object(let root) = document else { throw .malformed("the body must be a JSON object") }

        var reader = Reader()
        let customer = reader.object(root["customer"], at: "customer")
        let customerID = reader.string(customer?["id"], at: "customer.id", parentPresent: customer != nil)
        let email = reader.string(customer?["email"], at: "customer.email", parentPresent: customer != nil)
        let currency = reader.string(root["currency"], at: "currency")
        var lines: [OrderLine] = []
        for (index, element) in reader.array(root["items"], at: "items").enumerated() {
            let path = "items[\(index)]"
            let line = reader.object(element, at: path)
            lines.append(
                OrderLine(
                    sku: reader.string(line?["sku"], at: "\(path).sku", parentPresent: line != nil),
                    quantity: reader.integer(line?["quantity"], at: "\(path).quantity", parentPresent: line != nil),
                    unitPriceCents: reader.integer(line?["unit_price_cents"], at: "\(path).unit_price_cents", parentPresent: line != nil)
                )
            )
        }
        let payment = reader.object(root["payment"], at: "payment")
        let token = reader.string(payment?["token"], at: "payment.token", parentPresent: payment != nil)
        let request = OrderRequest(
            customer: Customer(id: customerID, email: email), currency: currency, items: lines, payment: PaymentMethod(token: token)
        )

        // A field that could not be read is reported once, for why it could not be read.
        let reported = Set(reader.violations.map(\.field))
        let violations =
            reader.violations
            + OrderValidation.validate(request).filter { !reported.contains($0.field) && !reader.brokenParents.contains($0.field) }
        guard violations.isEmpty else { throw .invalid(violations) }
        return request
    }

    /// Walks the document, recording what is missing or of the wrong type and filling neutral values.
    private struct Reader {
        var violations: [FieldViolation] = []
        /// Paths whose parent could not be read, so their own emptiness is not news.
        var brokenParents: Set<String> = []

        mutating func fail(_ field: String, _ message: String) {
            violations.append(FieldViolation(field: field, message: message))
        }

        mutating func object(_ value: JSONValue?, at path: String) -> [String: JSONValue]? {
            switch value {
            case .object(let members): return members
            case nil, .null: fail(path, "is required")
            default: fail(path, "must be an object")
            }
            return nil
        }

        mutating func array(_ value: JSONValue?, at path: String) -> [JSONValue] {
            switch value {
            case .array(let elements): return elements
            case nil, .null: fail(path, "is required")
            default: fail(path, "must be an array")
            }
            return []
        }

        mutating func string(_ value: JSONValue?, at path: String, parentPresent: Bool = true) -> String {
            guard parentPresent else {
                brokenParents.insert(path)
                return ""
            }
            switch value {
            case .string(let text): return text
            case nil, .null: fail(path, "is required")
            default: fail(path, "must be a string")
            }
            return ""
        }

        mutating func integer(_ value: JSONValue?, at path: String, parentPresent: Bool = true) -> Int {
            guard parentPresent else {
                brokenParents.insert(path)
                return 0
            }
            switch value {
            case .integer(let number): return number
            case nil, .null: fail(path, "is required")
            default: fail(path, "must be a whole number")
            }
            return 0
        }
    }
}
