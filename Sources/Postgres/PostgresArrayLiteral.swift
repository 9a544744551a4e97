/// PostgreSQL's text form of one-dimensional arrays, `{a,"b c",NULL}`, as pure functions.
enum PostgresArrayLiteral {
    /// Writes `{"…","…",NULL}`: every element double-quoted with `"` and `\` escaped, `nil` as an unquoted `NULL`.
    static func encode(_ elements: [String?]) -> String {
        var text = "{"
        for (offset, element) in elements.enumerated() {
            if offset > 0 { text += "," }
            guard let element else {
                text += "NULL"
                continue
            }
            text += "\""
            for character in element.unicodeScalars {
                if character == "\"" || character == "\\" { text += "\\" }
                text.unicodeScalars.append(character)
            }
            text += "\""
        }
        return text + "}"
    }

    /// Reads a one-dimensional array literal as PostgreSQL prints it; `NULL` elements become `nil`.
    ///
    /// Accepts quoted elements with backslash escapes, unquoted elements (whose surrounding whitespace is dropped)
    /// and an optional dimension prefix such as `[0:2]=`. Returns `nil` for malformed text and for nested arrays.
    static func decode(_ text: String) -> [String?]? {
        var scalars = Array(text.unicodeScalars)[...]
        if scalars.first == "[" {
            guard let equals = scalars.firstIndex(of: "=") else { return nil }
            scalars = scalars[(equals + 1)...]
        }
        guard scalars.first == "{", scalars.last == "}" else { return nil }
        scalars = scalars.dropFirst().dropLast()
        if scalars.allSatisfy({ $0.properties.isWhitespace }) { return [] }

        var elements: [String?] = []
        var index = scalars.startIndex
        while true {
            while index < scalars.endIndex, scalars[index].properties.isWhitespace { index += 1 }
            guard index < scalars.endIndex else { return nil }
            if scalars[index] == "{" { return nil }
            var element = String.UnicodeScalarView()
            if scalars[index] == "\"" {
                index += 1
                var closed = false
                while index < scalars.endIndex {
                    let scalar = scalars[index]
                    index += 1
                    if scalar == "\\" {
                        guard index < scalars.endIndex else { return nil }
                        element.append(scalars[index])
                        index += 1
                    } else if scalar == "\"" {
                        closed = true
                        break
                    } else {
                        element.append(scalar)
                    }
                }
                guard closed else { return nil }
                while index < scalars.endIndex, scalars[index].properties.isWhitespace { index += 1 }
                elements.append(String(element))
            } else {
                var sawEscape = false
                while index < scalars.endIndex, scalars[index] != "," {
                    if scalars[index] == "\\" {
                        index += 1
                        guard index < scalars.endIndex else { return nil }
                        sawEscape = true
                    }
                    element.append(scalars[index])
                    index += 1
                }
                let value = String(element).trimmingWhitespace()
                if value.isEmpty { return nil }
                elements.append(!sawEscape && value.uppercased() == "NULL" ? nil : value)
            }
            if index == scalars.endIndex { return elements }
            guard scalars[index] == "," else { return nil }
            index += 1
        }
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
