/// A node of a YAML document, as ``YAMLReader`` reads the subset the contract documents use.
///
/// Mappings keep their keys in document order. Scalars stay text: the reader does not guess
/// types, the accessors (``int``, ``bool``) interpret them when asked.
package indirect enum YAMLNode: Equatable, Sendable, CustomStringConvertible {
    case scalar(String, quoted: Bool)
    case null
    case sequence([YAMLNode])
    case mapping([Entry])

    /// One key and its value in a mapping.
    package struct Entry: Equatable, Sendable {
        package var key: String
        package var value: YAMLNode

        package init(key: String, value: YAMLNode) {
            self.key = key
            self.value = value
        }
    }

    /// The value of `key` in a mapping; `nil` for a missing key or a node that is not a mapping.
    package subscript(key: String) -> YAMLNode? {
        guard case .mapping(let entries) = self else { return nil }
        return entries.first { $0.key == key }?.value
    }

    /// The node at a path of keys, e.g. `["components", "schemas", "Customer"]`.
    package subscript(path: [String]) -> YAMLNode? {
        path.reduce(Optional(self)) { node, key in node?[key] }
    }

    package var entries: [Entry] {
        guard case .mapping(let entries) = self else { return [] }
        return entries
    }

    package var keys: [String] { entries.map(\.key) }

    package var items: [YAMLNode] {
        guard case .sequence(let items) = self else { return [] }
        return items
    }

    /// The text of a scalar.
    package var string: String? {
        guard case .scalar(let text, _) = self else { return nil }
        return text
    }

    /// The texts of a sequence of scalars; `nil` when it is not one.
    package var strings: [String]? {
        guard case .sequence(let items) = self else { return nil }
        let texts = items.compactMap(\.string)
        return texts.count == items.count ? texts : nil
    }

    /// A plain scalar read as a whole number.
    package var int: Int? {
        guard case .scalar(let text, false) = self else { return nil }
        return Int(text)
    }

    /// A plain `true` or `false`.
    package var bool: Bool? {
        guard case .scalar(let text, false) = self else { return nil }
        switch text {
        case "true": return true
        case "false": return false
        default: return nil
        }
    }

    /// A mapping with the single key `$ref`: the reference's target.
    package var reference: String? {
        guard case .mapping(let entries) = self, entries.count == 1, entries[0].key == "$ref" else { return nil }
        return entries[0].value.string
    }

    package var description: String {
        switch self {
        case .scalar(let text, let quoted): quoted ? "'\(text)'" : text
        case .null: "null"
        case .sequence(let items): "[\(items.map(\.description).joined(separator: ", "))]"
        case .mapping(let entries): "{\(entries.map { "\($0.key): \($0.value)" }.joined(separator: ", "))}"
        }
    }
}
