/// Reads the subset of YAML the contract documents are written in, without a YAML library.
///
/// Supported: block mappings and sequences (indented with spaces), one-line flow collections
/// (`[a, b]`, `{ $ref: '#/x' }`), plain, single- and double-quoted scalars, `|` and `>` block
/// scalars, and comments. Anything else (anchors, aliases, tags, multi-line plain or flow
/// scalars, several documents) is an error naming the line, so a document that strays from
/// the subset fails the tests instead of being misread.
package struct YAMLReader {
    /// What is wrong, and on which line (counting from 1).
    package struct Error: Swift.Error, CustomStringConvertible, Equatable {
        package var line: Int
        package var message: String

        package var description: String { "line \(line): \(message)" }
    }

    /// A line whose leading part may already have been consumed (the `- ` of a sequence item).
    private struct Line {
        var index: Int
        var indent: Int
        var content: Substring
    }

    private let lines: [Substring]
    private var position = 0
    private var pending: Line?

    package init(_ text: String) {
        lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
    }

    /// Reads a whole document.
    package static func read(_ text: String) throws(Error) -> YAMLNode {
        var reader = YAMLReader(text)
        let node = try reader.readNode(minimumIndent: 0)
        if let line = try reader.peek() {
            throw Error(line: line.index + 1, message: "unexpected content after the document: '\(line.content)'")
        }
        return node
    }

    // MARK: - Lines

    /// The next line with content, skipping blank and comment-only lines.
    private mutating func peek() throws(Error) -> Line? {
        if let pending { return pending }
        while position < lines.count {
            let raw = lines[position]
            let indent = raw.prefix { $0 == " " }.count
            let content = raw.dropFirst(indent)
            if content.first == "\t" { throw Error(line: position + 1, message: "tabs are not allowed in indentation") }
            if content.allSatisfy(\.isWhitespace) || content.first == "#" {
                position += 1
                continue
            }
            if content == "---" || content == "..." { throw Error(line: position + 1, message: "document markers are not supported") }
            return Line(index: position, indent: indent, content: content)
        }
        return nil
    }

    private mutating func consume() {
        if pending != nil {
            pending = nil
            position += 1
        } else {
            position += 1
        }
    }

    // MARK: - Block structure

    private mutating func readNode(minimumIndent: Int) throws(Error) -> YAMLNode {
        guard let line = try peek(), line.indent >= minimumIndent else { return .null }
        if Self.isSequenceItem(line.content) { return try readSequence(indent: line.indent) }
        if try Self.splitKey(line.content, line: line.index + 1) != nil { return try readMapping(indent: line.indent) }
        consume()
        return try Self.inlineValue(Self.stripComment(line.content), line: line.index + 1)
    }

    private mutating func readMapping(indent: Int) throws(Error) -> YAMLNode {
        var entries: [YAMLNode.Entry] = []
        while let line = try peek(), line.indent >= indent {
            guard line.indent == indent else { throw Error(line: line.index + 1, message: "unexpected indentation") }
            guard let (key, rest) = try Self.splitKey(line.content, line: line.index + 1) else {
                throw Error(line: line.index + 1, message: "expected 'key: value', found '\(line.content)'")
            }
            if entries.contains(where: { $0.key == key }) { throw Error(line: line.index + 1, message: "duplicate key '\(key)'") }
            consume()
            entries.append(.init(key: key, value: try readValue(rest, parentIndent: indent, line: line.index + 1)))
        }
        return .mapping(entries)
    }

    private mutating func readSequence(indent: Int) throws(Error) -> YAMLNode {
        var items: [YAMLNode] = []
        while let line = try peek(), line.indent >= indent {
            guard line.indent == indent else { throw Error(line: line.index + 1, message: "unexpected indentation") }
            guard Self.isSequenceItem(line.content) else { break }
            let afterDash = line.content.dropFirst()
            let spaces = afterDash.prefix { $0 == " " }.count
            let rest = afterDash.dropFirst(spaces)
            if rest.isEmpty || rest.first == "#" {
                consume()
                items.append(try readNode(minimumIndent: indent + 1))
            } else {
                // The item's content starts a node at its own column, like a line of its own.
                pending = Line(index: line.index, indent: indent + 1 + spaces, content: rest)
                items.append(try readNode(minimumIndent: indent + 1))
            }
        }
        return .sequence(items)
    }

    /// The value after `key:` on a line of a mapping at `parentIndent`.
    private mutating func readValue(_ rest: Substring, parentIndent: Int, line: Int) throws(Error) -> YAMLNode {
        let text = Self.stripComment(rest.drop { $0 == " " })
        if text.isEmpty {
            guard let next = try peek() else { return .null }
            if next.indent > parentIndent { return try readNode(minimumIndent: parentIndent + 1) }
            if next.indent == parentIndent, Self.isSequenceItem(next.content) { return try readSequence(indent: parentIndent) }
            return .null
        }
        if let indicator = text.first, indicator == "|" || indicator == ">" {
            return try readBlockScalar(header: text, parentIndent: parentIndent, line: line)
        }
        return try Self.inlineValue(text, line: line)
    }

    private mutating func readBlockScalar(header: Substring, parentIndent: Int, line: Int) throws(Error) -> YAMLNode {
        let folded = header.first == ">"
        let chomping = header.dropFirst()
        guard chomping.isEmpty || chomping == "-" || chomping == "+" else {
            throw Error(line: line, message: "unsupported block scalar header '\(header)'")
        }
        var body: [Substring] = []
        var blockIndent: Int?
        while position < lines.count {
            let raw = lines[position]
            let indent = raw.prefix { $0 == " " }.count
            if raw.dropFirst(indent).isEmpty {
                body.append("")
                position += 1
                continue
            }
            if let blockIndent, indent < blockIndent { break }
            if blockIndent == nil {
                guard indent > parentIndent else { break }
                blockIndent = indent
            }
            body.append(raw.dropFirst(blockIndent!))
            position += 1
        }
        var trailingBlank = 0
        while body.last == "" {
            body.removeLast()
            trailingBlank += 1
        }
        var text: String
        if folded {
            text = ""
            for (offset, part) in body.enumerated() {
                if part.isEmpty {
                    text += "\n"
                } else {
                    if offset > 0, !body[offset - 1].isEmpty { text += " " }
                    text += part
                }
            }
        } else {
            text = body.joined(separator: "\n")
        }
        switch chomping {
        case "-": break
        case "+": text += String(repeating: "\n", count: trailingBlank + 1)
        default: if !body.isEmpty { text += "\n" }
        }
        return .scalar(text, quoted: true)
    }

    // MARK: - Inline values

    package static func isSequenceItem(_ content: Substring) -> Bool {
        content == "-" || content.hasPrefix("- ")
    }

    /// `key` and what follows `key:`, or nil when the line is not a mapping entry.
    package static func splitKey(_ content: Substring, line: Int) throws(Error) -> (String, Substring)? {
        if content.first == "[" || content.first == "{" || isSequenceItem(content) { return nil }
        if let quote = content.first, quote == "'" || quote == "\"" {
            var scanner = Scanner(text: content, line: line)
            let key = try scanner.quoted()
            let rest = scanner.remainder.drop { $0 == " " }
            guard rest.first == ":", rest.dropFirst().isEmpty || rest.dropFirst().first == " " else { return nil }
            return (key, rest.dropFirst())
        }
        let text = stripComment(content)
        var index = text.startIndex
        while index < text.endIndex {
            if text[index] == ":" {
                let next = text.index(after: index)
                if next == text.endIndex || text[next] == " " {
                    let key = text[..<index].trimmingTrailingSpaces()
                    guard !key.isEmpty else { return nil }
                    if let first = key.first, "&*!|>%@`".contains(first) {
                        throw Error(line: line, message: "unsupported YAML syntax in key '\(key)'")
                    }
                    return (String(key), text[next...])
                }
            }
            index = text.index(after: index)
        }
        return nil
    }

    /// The content without a trailing comment: a `#` after a space, outside quotes.
    package static func stripComment(_ content: Substring) -> Substring {
        var quote: Character?
        var previous: Character = " "
        var index = content.startIndex
        while index < content.endIndex {
            let character = content[index]
            defer {
                previous = character
                index = content.index(after: index)
            }
            if let open = quote {
                let next = content.index(after: index)
                if character == open, open == "'", next < content.endIndex, content[next] == "'" {
                    index = next  // '' is a quote inside a single-quoted scalar
                } else if character == open {
                    quote = nil
                }
            } else if character == "'" || character == "\"", " [{,:".contains(previous) {
                quote = character
            } else if character == "#", previous == " " {
                return content[..<index].trimmingTrailingSpaces()
            }
        }
        return content.trimmingTrailingSpaces()
    }

    /// A value written on one line: a flow collection or a scalar.
    package static func inlineValue(_ text: Substring, line: Int) throws(Error) -> YAMLNode {
        var scanner = Scanner(text: text, line: line)
        let value = try scanner.value(inFlow: false)
        scanner.skipSpaces()
        guard scanner.remainder.isEmpty else { throw Error(line: line, message: "unexpected '\(scanner.remainder)' after a value") }
        return value
    }

    /// A cursor over the text of one line.
    struct Scanner {
        var remainder: Substring
        let line: Int

        init(text: Substring, line: Int) {
            remainder = text
            self.line = line
        }

        mutating func skipSpaces() { remainder = remainder.drop { $0 == " " } }

        mutating func value(inFlow: Bool) throws(Error) -> YAMLNode {
            skipSpaces()
            switch remainder.first {
            case "[": return try flowSequence()
            case "{": return try flowMapping()
            case "'", "\"": return .scalar(try quoted(), quoted: true)
            case let first? where "&*!%@`".contains(first):
                throw Error(line: line, message: "unsupported YAML syntax '\(remainder)' (anchors, aliases and tags are not in the subset)")
            default:
                let text = plain(inFlow: inFlow, isKey: false)
                return text.isEmpty || text == "null" || text == "~" ? .null : .scalar(text, quoted: false)
            }
        }

        mutating func quoted() throws(Error) -> String {
            let quote = remainder.removeFirst()
            var text = ""
            while let character = remainder.first {
                remainder.removeFirst()
                if character == quote {
                    if quote == "'", remainder.first == "'" {
                        remainder.removeFirst()
                        text.append("'")
                        continue
                    }
                    return text
                }
                if quote == "\"", character == "\\" {
                    guard let escaped = remainder.first else { break }
                    remainder.removeFirst()
                    switch escaped {
                    case "n": text.append("\n")
                    case "t": text.append("\t")
                    case "\"", "\\", "/": text.append(escaped)
                    default: throw Error(line: line, message: "unsupported escape '\\\(escaped)'")
                    }
                    continue
                }
                text.append(character)
            }
            throw Error(line: line, message: "unterminated quoted string")
        }

        mutating func plain(inFlow: Bool, isKey: Bool) -> String {
            var text = ""
            while let character = remainder.first {
                if inFlow, ",[]{}".contains(character) { break }
                if isKey, character == ":" { break }
                text.append(character)
                remainder.removeFirst()
            }
            return String(text.trimmingTrailingSpaces())
        }

        mutating func flowSequence() throws(Error) -> YAMLNode {
            remainder.removeFirst()
            var items: [YAMLNode] = []
            skipSpaces()
            if remainder.first == "]" {
                remainder.removeFirst()
                return .sequence(items)
            }
            while true {
                items.append(try value(inFlow: true))
                skipSpaces()
                switch remainder.first {
                case ",": remainder.removeFirst()
                case "]":
                    remainder.removeFirst()
                    return .sequence(items)
                default: throw Error(line: line, message: "expected ',' or ']' in a flow sequence")
                }
            }
        }

        mutating func flowMapping() throws(Error) -> YAMLNode {
            remainder.removeFirst()
            var entries: [YAMLNode.Entry] = []
            skipSpaces()
            if remainder.first == "}" {
                remainder.removeFirst()
                return .mapping(entries)
            }
            while true {
                skipSpaces()
                let key = remainder.first == "'" || remainder.first == "\"" ? try quoted() : plain(inFlow: true, isKey: true)
                skipSpaces()
                guard remainder.first == ":" else { throw Error(line: line, message: "expected ':' after '\(key)' in a flow mapping") }
                remainder.removeFirst()
                if entries.contains(where: { $0.key == key }) { throw Error(line: line, message: "duplicate key '\(key)'") }
                entries.append(.init(key: key, value: try value(inFlow: true)))
                skipSpaces()
                switch remainder.first {
                case ",": remainder.removeFirst()
                case "}":
                    remainder.removeFirst()
                    return .mapping(entries)
                default: throw Error(line: line, message: "expected ',' or '}' in a flow mapping")
                }
            }
        }
    }
}

extension StringProtocol {
    fileprivate func trimmingTrailingSpaces() -> SubSequence {
        var end = endIndex
        while end > startIndex, self[index(before: end)] == " " { end = index(before: end) }
        return self[startIndex..<end]
    }
}
