import Contracts

/// Checks JSON values against the JSON Schemas of a contract document: the subset those schemas
/// use (`$ref` within the document, `allOf`, `type`, `properties`, `required`, `items`, `enum`,
/// `const`, `minLength`, `maxLength`, `minimum`, `maximum`, `minItems`, `maxItems`, `pattern`, and
/// `format: email` as an address with one `@`, no space and a dotted domain).
///
/// Stricter than JSON Schema on purpose: a key the schema does not document is a problem even
/// without `additionalProperties: false`, because the point is to catch drift between the code's
/// JSON and the documented one.
package struct SchemaChecker {
    /// The whole document, against which `$ref`s resolve.
    package let document: YAMLNode

    package init(document: YAMLNode) { self.document = document }

    /// Extra demands for comparing a sample value with its schema.
    package struct Demands: OptionSet {
        package init(rawValue: Int) { self.rawValue = rawValue }
        package let rawValue: Int
        /// Every documented property appears in the value (use with a sample that sets every optional).
        package static let everyPropertyPresent = Demands(rawValue: 1)
        /// Every property in the value is documented as required (use with a sample that sets no optional).
        package static let everyPresentPropertyRequired = Demands(rawValue: 2)
    }

    /// The node a `$ref` such as `#/components/schemas/Customer` points to.
    package func resolve(_ reference: String) -> YAMLNode? {
        guard reference.hasPrefix("#/") else { return nil }
        let path = reference.dropFirst(2).split(separator: "/").map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
        return document[path]
    }

    /// The schema itself, or what its `$ref` points to (repeatedly).
    package func dereference(_ schema: YAMLNode) -> YAMLNode? {
        var current = schema
        var hops = 0
        while let reference = current["$ref"]?.string {
            guard let target = resolve(reference), hops < 20 else { return nil }
            current = target
            hops += 1
        }
        return current
    }

    /// The properties and required names of an object schema, merged across `allOf`.
    package func objectShape(_ schema: YAMLNode) -> (properties: [(String, YAMLNode)], required: Set<String>) {
        guard let schema = dereference(schema) else { return ([], []) }
        var properties: [(String, YAMLNode)] = []
        var required = Set(schema["required"]?.strings ?? [])
        for part in schema["allOf"]?.items ?? [] {
            let shape = objectShape(part)
            for (name, property) in shape.properties {
                // A later part narrows an earlier one (e.g. `type: {const: …}`): check both.
                properties.append((name, property))
            }
            required.formUnion(shape.required)
        }
        for entry in schema["properties"]?.entries ?? [] { properties.append((entry.key, entry.value)) }
        return (properties, required)
    }

    /// A schema that lists properties; `type: object` alone is any object (the envelope's `data`).
    private func isObjectSchema(_ schema: YAMLNode) -> Bool {
        schema["properties"] != nil || schema["allOf"] != nil
    }

    /// What is wrong with `value` as an instance of `schema`, one sentence per problem naming
    /// the JSON path; empty when it conforms.
    package func problems(of value: JSONValue, against schema: YAMLNode, at path: String = "$", demands: Demands = []) -> [String] {
        guard let schema = dereference(schema) else { return ["\(path): the schema's $ref does not resolve"] }
        var problems: [String] = []
        if let types = schema["type"].flatMap({ $0.strings ?? $0.string.map { [$0] } }), !types.contains(where: { Self.matches(value, $0) }) {
            problems.append("\(path): \(value) is not of type \(types.joined(separator: " or "))")
        }
        if let allowed = schema["enum"]?.items, !allowed.contains(where: { Self.equals(value, $0) }) {
            problems.append("\(path): \(value) is not one of \(allowed.map(\.description).joined(separator: ", "))")
        }
        if let constant = schema["const"], !Self.equals(value, constant) {
            problems.append("\(path): \(value) is not \(constant)")
        }
        if case .string(let text) = value {
            if let minimum = schema["minLength"]?.int, text.count < minimum { problems.append("\(path): shorter than \(minimum)") }
            if let maximum = schema["maxLength"]?.int, text.count > maximum { problems.append("\(path): longer than \(maximum)") }
            if schema["format"]?.string == "email", (try? Self.email.wholeMatch(in: text)) == nil {
                problems.append("\(path): '\(text.prefix(40))' is not an email address")
            }
            if let pattern = schema["pattern"]?.string {
                if let regex = try? Regex(pattern) {
                    if (try? regex.firstMatch(in: text)) == nil { problems.append("\(path): '\(text)' does not match \(pattern)") }
                } else {
                    problems.append("\(path): the pattern \(pattern) is not a valid regular expression")
                }
            }
        }
        if case .integer(let number) = value, let minimum = schema["minimum"]?.int, number < minimum {
            problems.append("\(path): \(number) is below the minimum \(minimum)")
        }
        if case .integer(let number) = value, let maximum = schema["maximum"]?.int, number > maximum {
            problems.append("\(path): \(number) is above the maximum \(maximum)")
        }
        if case .array(let elements) = value, let minimum = schema["minItems"]?.int, elements.count < minimum {
            problems.append("\(path): fewer than \(minimum) items")
        }
        if case .array(let elements) = value, let maximum = schema["maxItems"]?.int, elements.count > maximum {
            problems.append("\(path): more than \(maximum) items")
        }
        if case .array(let elements) = value, let items = schema["items"] {
            for (index, element) in elements.enumerated() {
                problems += self.problems(of: element, against: items, at: "\(path)[\(index)]", demands: demands)
            }
        }
        if case .object(let object) = value, isObjectSchema(schema) {
            let shape = objectShape(schema)
            let documented = Set(shape.properties.map(\.0))
            for name in shape.required.sorted() where object[name] == nil {
                problems.append("\(path).\(name): required by the document but missing from the JSON")
            }
            for name in object.keys.sorted() where !documented.contains(name) {
                problems.append("\(path).\(name): in the JSON but not documented")
            }
            if demands.contains(.everyPropertyPresent) {
                for name in documented.sorted() where object[name] == nil {
                    problems.append("\(path).\(name): documented but never in the JSON")
                }
            }
            if demands.contains(.everyPresentPropertyRequired) {
                for name in object.keys.sorted() where documented.contains(name) && !shape.required.contains(name) {
                    problems.append("\(path).\(name): always in the JSON but not documented as required")
                }
            }
            for (name, property) in shape.properties {
                guard let member = object[name] else { continue }
                problems += self.problems(of: member, against: property, at: "\(path).\(name)", demands: demands)
            }
        }
        return problems
    }

    /// `format: email`: a local part and a domain of at least two labels, none empty, no whitespace.
    nonisolated(unsafe) static let email = #/[^@\s]+@[^@\s.]+(\.[^@\s.]+)+/#

    private static func matches(_ value: JSONValue, _ type: String) -> Bool {
        switch (value, type) {
        case (.null, "null"), (.bool, "boolean"), (.integer, "integer"), (.integer, "number"), (.number, "number"), (.string, "string"),
            (.array, "array"), (.object, "object"):
            true
        default: false
        }
    }

    private static func equals(_ value: JSONValue, _ node: YAMLNode) -> Bool {
        switch (value, node) {
        case (.string(let text), .scalar(let expected, _)): text == expected
        case (.integer(let number), .scalar(let expected, false)): Int(expected) == number
        case (.bool(let flag), .scalar(let expected, false)): expected == (flag ? "true" : "false")
        case (.null, .null): true
        default: false
        }
    }
}
