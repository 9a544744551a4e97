import Foundation

/// A contract document of the repository (`docs/asyncapi.yaml`, `docs/openapi.yaml`), read once.
package struct ContractDocument: Sendable {
    /// Where the file is, relative to the repository root.
    package let path: String
    package let root: YAMLNode

    /// The repository root, found from this file's path (`<root>/Tests/ContractDocuments/…`).
    package static let repositoryRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    package static func load(_ path: String) throws -> ContractDocument {
        let url = repositoryRoot.appendingPathComponent(path)
        let text = try String(contentsOf: url, encoding: .utf8)
        do {
            return ContractDocument(path: path, root: try YAMLReader.read(text))
        } catch {
            throw DocumentError(description: "\(path), \(error)")
        }
    }

    package static let asyncAPI = Result { try load("docs/asyncapi.yaml") }
    package static let openAPI = Result { try load("docs/openapi.yaml") }

    package var schemas: SchemaChecker { SchemaChecker(document: root) }

    /// Every `$ref` value in the document, with where it is written.
    package func references() -> [(at: String, target: String)] {
        var found: [(String, String)] = []
        func visit(_ node: YAMLNode, _ path: String) {
            switch node {
            case .mapping(let entries):
                for entry in entries {
                    if entry.key == "$ref", let target = entry.value.string { found.append((path, target)) }
                    visit(entry.value, "\(path)/\(entry.key)")
                }
            case .sequence(let items):
                for (index, item) in items.enumerated() { visit(item, "\(path)[\(index)]") }
            case .scalar, .null: break
            }
        }
        visit(root, "")
        return found
    }

    package struct DocumentError: Error, CustomStringConvertible {
        package var description: String
    }
}
