/// A node of a YAML document, as ``YAMLReader`` reads the subset the contract documents use.
///
/// Mappings keep their keys in document order. Scalars stay text: the reader does not guess
/// types, the accessors (``int``, ``bool``) interpret them when asked.
indirect enum YAMLNode: Equatable, Sendable, CustomStringConvertible {
    case scalar(String, quoted: Bool)
    case null
    case sequence([YAMLNode])
    case mapping([Entry])

    /// One key and its value in a mapping.
    struct Entry: Equatable, Sendable {
        var key: String
        var value: YAMLNode
    }

    /// The value of `key` in a mapping; `nil` for a missing key or a node that is not a mapping.
    subscript(key: String) -> YAMLNode? {
        guard case .mapping(let entries) = self else { return nil }
        return entries.first { $0.key == key }?.value
    }

    /// The node at a path of keys, e.g. `["components", "schemas", "Customer"]`.
    subscript(path: [String]) -> YAMLNode? {
        path.reduce(Optional(self)) { node, key in node?[key] }
    }

    var entries: [Entry] {
        guard case .mapping(let entries) = self else { return [] }
        return entries
    }

    var keys: [String] { entries.map(\.key) }

    var items: [YAMLNode] {
        guard case .sequence(let items) = self else { return [] }
        return items
    }

    /// The text of a scalar.
    var string: String? {
        guard case .scalar(let text, _) = self else { return nil }
        return text
    }

    /// The texts of a sequence of scalars; `nil` when it is not one.
    var strings: [String]? {
        guard case .sequence(let items) = self else { return nil }
        let texts = items.compactMap(\.string)
        return texts.count == items.count ? texts : nil
    }

    /// A plain scalar read as a whole number.
    var int: Int? {
        guard case .scalar(let text, false) = self else { return nil }
        return Int(text)
    }

    /// A plain `true` or `false`.
    var bool: Bool? {
        guard case .scalar(let text, false) = self else { return nil }
        switch text {
        case "true": return true
        case "false": return false
        default: return nil
        }
    }

    /// A mapping with the single key `$ref`: the reference's target.
    var reference: String? {
        guard case .mapping(let entries) = self, entries.count == 1, entries[0].key == "$ref" else { return nil }
        return entries[0].value.string
    }

    var description: String {
        switch self {
        case .scalar(let text, let quoted): quoted ? "'\(text)'" : text
        case .null: "null"
        case .sequence(let items): "[\(items.map(\.description).joined(separator: ", "))]"
        case .mapping(let entries): "{\(entries.map { "\($0.key): \($0.value)" }.joined(separator: ", "))}"
        }
    }
}
