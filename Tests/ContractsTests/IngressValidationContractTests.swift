import ContractDocuments
import Contracts
import Foundation
import Ingress
import Testing

/// The rules `orderly publish` checks ingress events with (``IngressValidation``, the consuming services'
/// own) against the message schemas of `docs/asyncapi.yaml`: for documents made by changing one field of
/// a valid one in every way the schema or the code could object to, both must accept the same ones and
/// refuse the others for the same fields.
@Suite(.timeLimit(.minutes(1)))
struct IngressValidationContractTests {
    let document: ContractDocument

    init() throws {
        document = try ContractDocument.asyncAPI.get()
    }

    /// A valid `data` of each ingress type, which both must accept.
    static func valid(_ type: EventType) throws -> JSONValue {
        switch type {
        case .orderRequested:
            try .encoding(
                OrderRequest(
                    customer: PayloadSamples.customer, currency: "EUR", items: PayloadSamples.lines, payment: PaymentMethod(token: "tok_ok")))
        case .stockAdjusted: try .encoding(StockAdjusted(sku: "SKU-001", delta: -3, reason: "inventory count"))
        default: throw Unexpected(type: type)
        }
    }

    struct Unexpected: Error {
        var type: EventType
    }

    /// The `data` schema of the ingress message of `type`.
    func schema(of type: EventType) throws -> YAMLNode {
        let key = try #require(document.root[["components", "messages"]]?.entries.first { $0.value["name"]?.string == type.rawValue }?.key)
        let payload = try #require(document.root[["components", "messages", key, "payload"]])
        return try #require(document.schemas.objectShape(payload).properties.last { $0.0 == "data" }?.1)
    }

    /// The fields a schema objects to in `data`, as ``FieldViolation`` names them (`items[0].sku`; the whole data as "").
    func schemaFields(_ data: JSONValue, _ schema: YAMLNode) -> Set<String> {
        Set(
            document.schemas.problems(of: data, against: schema, at: "data").map { problem in
                let path = String(problem.prefix { $0 != ":" })
                return path == "data" ? "" : String(path.dropFirst("data.".count))
            })
    }

    /// The fields the code objects to in `data`.
    func codeFields(_ data: JSONValue, _ type: EventType) throws -> (fields: Set<String>, messages: [String]) {
        let violations = IngressValidation.violations(of: try JSONEncoder().encode(data), as: type)
        return (Set(violations.map(\.field)), violations.map(\.description))
    }

    @Test(arguments: IngressValidation.types)
    func theCodeAndTheSchemaRefuseTheSameFields(type: EventType) throws {
        #expect(IngressValidation.types == [.orderRequested, .stockAdjusted])
        let schema = try schema(of: type)
        let valid = try Self.valid(type)
        #expect(schemaFields(valid, schema) == [])
        #expect(try codeFields(valid, type).fields == [])

        var probes = 0
        for probe in Probes.of(valid, schema: schema, checker: document.schemas) {
            probes += 1
            let expected = schemaFields(probe.data, schema)
            var (actual, messages) = try codeFields(probe.data, type)
            // The order total (at least 1 cent, at most 10^9) spans the lines: no JSON Schema keyword states it.
            // OrderRequest's description says it; the code alone checks it.
            // A line whose price or quantity is refused adds nothing to the total, which may then be refused as well.
            let onItems = messages.filter { $0.hasPrefix("items:") }
            if !expected.contains("items"), !onItems.isEmpty, onItems.allSatisfy({ $0.contains("order total") }) { actual.remove("items") }
            #expect(actual == expected, "\(type.rawValue), \(probe.change): the schema objects to \(expected.sorted()), the code to \(messages)")
        }
        #expect(probes > 20)
    }

    @Test func theTotalTheSchemaCannotStateIsInItsDescription() throws {
        let description = try #require(document.root[["components", "schemas", "OrderRequest", "description"]]?.string)
        #expect(description.contains("total"))
    }

    @Test func aRefusalNamesEveryFieldAndWhatItMustBe() throws {
        let json = Data(
            #"{"customer":{"id":"c-1","email":"nope"},"currency":"eur","items":[{"sku":"S","quantity":0,"unit_price_cents":5}],"payment":{}}"#.utf8)
        let refusal = try #require(throws: IngressRefusal.self) { try IngressValidation.orderRequest(json) }
        #expect(
            refusal.lines == [
                "data.payment.token: is required", "data.customer.email: must be an email address like name@example.com",
                "data.currency: must be an ISO 4217 code of 3 uppercase letters, like EUR", "data.items[0].quantity: must be between 1 and 1000",
            ])
        let stock = try #require(throws: IngressRefusal.self) { try IngressValidation.stockAdjusted(Data(#"{"sku":"","delta":1.5}"#.utf8)) }
        #expect(stock.lines == ["data.sku: must not be empty", "data.delta: must be a whole number", "data.reason: is required"])
    }
}

/// Documents that differ from a valid one in one field: removed, null, of every other JSON type, and
/// at and past every bound either side could have (the schema's own, and generous ones of its own).
enum Probes {
    struct Probe {
        var change: String
        var data: JSONValue
    }

    static let strings: [JSONValue] = [
        "", " ", "\t", "x", "abc", "ABC", "ABCD", "eur", "a@b", "@example.com", "ada@example.com", "a b@example.com", "a@example..com",
        .string(String(repeating: "x", count: 64)), .string(String(repeating: "x", count: 65)), .string(String(repeating: "x", count: 128)),
        .string(String(repeating: "x", count: 129)), .string(String(repeating: "a", count: 250) + "@b.c"),
        .string(String(repeating: "a", count: 251) + "@b.c"),
        .string(String(repeating: "x", count: 10_000)),
    ]
    static let integers: [JSONValue] = [-1, 0, 1, 999, 1000, 1001, 10_000_000, 10_000_001, .integer(1 << 40), .integer(-(1 << 40))]
    static let otherTypes: [JSONValue] = [.null, .bool(true), .number(1.5), .string("1"), .integer(7), .array([]), .object([:])]

    /// Every probe of `valid` against `schema`.
    static func of(_ valid: JSONValue, schema: YAMLNode, checker: SchemaChecker) -> [Probe] {
        var probes: [Probe] = []
        func visit(_ value: JSONValue, _ schema: YAMLNode, _ path: [Step]) {
            guard let schema = checker.dereference(schema) else { return }
            switch value {
            case .object(let members):
                let shape = checker.objectShape(schema)
                for (name, property) in shape.properties where members[name] != nil {
                    let child = path + [.key(name)]
                    if shape.required.contains(name) {
                        probes.append(Probe(change: "\(child.text) removed", data: valid.replacing(at: child, with: nil)))
                    }
                    visit(members[name]!, property, child)
                }
            case .array(let elements):
                probes.append(Probe(change: "\(path.text) empty", data: valid.replacing(at: path, with: .array([]))))
                for count in [100, 101, 1000] {
                    probes.append(
                        Probe(
                            change: "\(path.text) with \(count) items",
                            data: valid.replacing(at: path, with: .array(Array(repeating: elements[0], count: count)))))
                }
                if let items = schema["items"], let first = elements.first { visit(first, items, path + [.index(0)]) }
            case .string:
                for text in strings {
                    probes.append(Probe(change: "\(path.text) = \(text.description.prefix(30))", data: valid.replacing(at: path, with: text)))
                }
            case .integer:
                for number in integers { probes.append(Probe(change: "\(path.text) = \(number)", data: valid.replacing(at: path, with: number))) }
            default: break
            }
            guard !path.isEmpty else { return }
            for other in otherTypes where !sameType(other, value) {
                probes.append(Probe(change: "\(path.text) = \(other)", data: valid.replacing(at: path, with: other)))
            }
        }
        visit(valid, schema, [])
        return probes
    }

    private static func sameType(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.string, .string), (.integer, .integer), (.array, .array), (.object, .object): true
        default: false
        }
    }

    enum Step {
        case key(String)
        case index(Int)
    }
}

extension [Probes.Step] {
    var text: String {
        map {
            switch $0 {
            case .key(let name): ".\(name)"
            case .index(let index): "[\(index)]"
            }
        }.joined().trimmingPrefix(".").description
    }
}

extension JSONValue {
    /// A copy with the value at `path` replaced, or removed when `replacement` is nil.
    func replacing(at path: [Probes.Step], with replacement: JSONValue?) -> JSONValue {
        guard let step = path.first else { return replacement ?? .null }
        let rest = Array(path.dropFirst())
        switch (self, step) {
        case (.object(var members), .key(let name)):
            if rest.isEmpty, replacement == nil {
                members[name] = nil
            } else {
                members[name] = (members[name] ?? .null).replacing(at: rest, with: replacement)
            }
            return .object(members)
        case (.array(var elements), .index(let index)) where elements.indices.contains(index):
            elements[index] = elements[index].replacing(at: rest, with: replacement)
            return .array(elements)
        default:
            return self
        }
    }
}
