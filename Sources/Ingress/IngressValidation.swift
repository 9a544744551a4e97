import Contracts
import Foundation

/// The data of the events other systems publish on `orderly.ingress`, checked before anything is sent.
///
/// The rules are the ones the consuming service applies, by the same code where there is one:
/// `order.requested` goes through order-service's own ``OrderRequestParser`` (what `POST /v1/orders`
/// accepts), `stock.adjusted` through the shape of ``StockAdjusted`` and inventory-service's rule
/// that a SKU is not empty. An event refused here is one the service would park. `ContractsTests`
/// proves that these rules and the message schemas of `docs/asyncapi.yaml` accept and refuse the
/// same documents, field by field (the order total, which a schema cannot state, apart). Pure.
package enum IngressValidation {
    /// The event types other systems may publish.
    package static let types: [EventType] = EventType.allCases.filter { $0.exchange == Exchange.ingress }

    /// Every offending field of `json` as the data of a `type` event, in the order of the fields; empty when it is valid.
    package static func violations(of json: Data, as type: EventType) -> [FieldViolation] {
        switch type {
        case .orderRequested:
            do {
                _ = try OrderRequestParser.parse(json)
                return []
            } catch {
                switch error {
                case .malformed(let reason): return [FieldViolation(field: "", message: reason)]
                case .invalid(let violations): return violations
                }
            }
        case .stockAdjusted:
            return stockAdjustment(json).violations
        default:
            return [FieldViolation(field: "", message: "\(type.rawValue) is not an ingress event")]
        }
    }

    /// The valid request in `json`, for `order.requested`.
    ///
    /// - Throws: ``IngressRefusal`` naming every offending field.
    package static func orderRequest(_ json: Data) throws(IngressRefusal) -> OrderRequest {
        do {
            return try OrderRequestParser.parse(json)
        } catch {
            throw IngressRefusal(type: .orderRequested, violations: violations(of: json, as: .orderRequested))
        }
    }

    /// The valid adjustment in `json`, for `stock.adjusted`.
    ///
    /// - Throws: ``IngressRefusal`` naming every offending field.
    package static func stockAdjusted(_ json: Data) throws(IngressRefusal) -> StockAdjusted {
        let read = stockAdjustment(json)
        guard let adjustment = read.adjustment, read.violations.isEmpty else {
            throw IngressRefusal(type: .stockAdjusted, violations: read.violations)
        }
        return adjustment
    }

    /// What is wrong with an adjustment whose fields have their types already: inventory-service parks an empty SKU.
    package static func violations(of adjustment: StockAdjusted) -> [FieldViolation] { violations(ofSKU: adjustment.sku) }

    static func violations(ofSKU sku: String) -> [FieldViolation] {
        sku.isEmpty ? [FieldViolation(field: "sku", message: "must not be empty")] : []
    }

    /// Reads every field of a `stock.adjusted`, naming each one that is missing or of the wrong type.
    private static func stockAdjustment(_ json: Data) -> (adjustment: StockAdjusted?, violations: [FieldViolation]) {
        let draft: StockAdjustedDraft
        do {
            draft = try JSONDecoder().decode(StockAdjustedDraft.self, from: json)
        } catch DecodingError.typeMismatch {
            return (nil, [FieldViolation(field: "", message: "the data must be a JSON object")])
        } catch {
            return (nil, [FieldViolation(field: "", message: "the data is not valid JSON")])
        }
        guard let sku = draft.sku, let delta = draft.delta, let reason = draft.reason else { return (nil, draft.violations) }
        return (StockAdjusted(sku: sku, delta: delta, reason: reason), draft.violations)
    }
}

/// A `stock.adjusted` read field by field, so that every wrong field is named, not only the first.
private struct StockAdjustedDraft: Decodable {
    var sku: String?
    var delta: Int?
    var reason: String?
    var violations: [FieldViolation] = []

    enum CodingKeys: String, CodingKey {
        case sku, delta, reason
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        sku = read(String.self, .sku, from: container, expecting: "a string")
        if let sku { violations += IngressValidation.violations(ofSKU: sku) }
        delta = read(Int.self, .delta, from: container, expecting: "a whole number")
        reason = read(String.self, .reason, from: container, expecting: "a string")
    }

    private mutating func read<T: Decodable>(
        _ type: T.Type, _ key: CodingKeys, from container: KeyedDecodingContainer<CodingKeys>, expecting what: String
    ) -> T? {
        guard container.contains(key), (try? container.decodeNil(forKey: key)) == false else {
            violations.append(FieldViolation(field: key.stringValue, message: "is required"))
            return nil
        }
        guard let value = try? container.decode(type, forKey: key) else {
            violations.append(FieldViolation(field: key.stringValue, message: "must be \(what)"))
            return nil
        }
        return value
    }
}

/// An ingress event refused before it was sent: every offending field of its data, with what was expected.
package struct IngressRefusal: Error, CustomStringConvertible, Sendable {
    package var type: EventType
    package var violations: [FieldViolation]

    package init(type: EventType, violations: [FieldViolation]) {
        self.type = type
        self.violations = violations
    }

    /// One line per field: `data.items[0].quantity: must be between 1 and 1000`.
    package var lines: [String] {
        violations.map { $0.field.isEmpty ? $0.message : "data.\($0.field): \($0.message)" }
    }

    package var description: String {
        "\(type.rawValue) does not satisfy its schema in docs/asyncapi.yaml; nothing was sent:\n  " + lines.joined(separator: "\n  ")
    }
}
