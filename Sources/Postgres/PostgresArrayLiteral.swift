/// PostgreSQL's text form of one-dimensional arrays, `{a,"b c",NULL}`, as pure functions.
enum PostgresArrayLiteral {
    /// Writes `{"…","…",NULL}`: every element double-quoted with `"` and `\` escaped, `nil` as an unquoted `NULL`.
    static func encode(_ elements: [String?]) -> String {
        // Byte by byte: batches send arrays of whole event envelopes, so this runs over kilobytes per statement.
        var capacity = 2
        for element in elements { capacity += (element?.utf8.count ?? 4) + 3 }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(capacity + capacity / 8)
        bytes.append(UInt8(ascii: "{"))
        for (offset, element) in elements.enumerated() {
            if offset > 0 { bytes.append(UInt8(ascii: ",")) }
            guard let element else {
                bytes.append(contentsOf: "NULL".utf8)
                continue
            }
            bytes.append(UInt8(ascii: "\""))
            for byte in element.utf8 {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { bytes.append(UInt8(ascii: "\\")) }
                bytes.append(byte)
            }
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
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
