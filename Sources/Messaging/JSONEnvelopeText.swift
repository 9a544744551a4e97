/// The JSON of an envelope, read and written byte by byte.
///
/// Reading takes a document apart at the top level only: each member's string value decoded, and every
/// other value checked to be well-formed JSON and kept as the bytes it was, so a payload travels on
/// unchanged and is parsed once, by the handler that knows its type. Writing escapes strings as
/// RFC 8259 requires. Both are pure functions.
enum JSONEnvelopeText {
    /// A top-level member's value.
    enum Value: Equatable {
        /// A string, unescaped.
        case string(String)
        /// Any other value (number, object, array, `true`, `false`, `null`), as its bytes.
        case raw(ArraySlice<UInt8>)
    }

    /// Why a document cannot be read, said plainly.
    struct Malformed: Error, Equatable {
        var reason: String
    }

    /// Nesting deeper than this is refused, so that a hostile document cannot exhaust the stack.
    static let maximumDepth = 256

    /// Checks that the bytes are one JSON value of any kind, with nothing but whitespace around it.
    ///
    /// - Throws: ``Malformed`` when they are not UTF-8 or not JSON.
    static func checkValue(_ bytes: [UInt8]) throws(Malformed) {
        guard isUTF8(bytes) else { throw Malformed(reason: "the body is not UTF-8") }
        var reader = Reader(bytes: bytes)
        reader.skipWhitespace()
        _ = try reader.skipValue(depth: 0)
        reader.skipWhitespace()
        guard reader.isAtEnd else { throw Malformed(reason: "the body is not JSON") }
    }

    /// The members of a JSON object, the last one winning when a name repeats.
    ///
    /// - Throws: ``Malformed`` when the bytes are not UTF-8, not JSON, or JSON but not an object.
    static func members(of bytes: [UInt8]) throws(Malformed) -> [String: Value] {
        guard isUTF8(bytes) else { throw Malformed(reason: "the body is not UTF-8") }
        var reader = Reader(bytes: bytes)
        reader.skipWhitespace()
        guard reader.peek == UInt8(ascii: "{") else {
            if reader.isAtEnd { throw Malformed(reason: "the body is not JSON") }
            _ = try reader.skipValue(depth: 0)
            reader.skipWhitespace()
            guard reader.isAtEnd else { throw Malformed(reason: "the body is not JSON") }
            throw Malformed(reason: "the body is JSON but not an object")
        }
        reader.index += 1
        var members: [String: Value] = [:]
        reader.skipWhitespace()
        if reader.peek == UInt8(ascii: "}") {
            reader.index += 1
        } else {
            while true {
                reader.skipWhitespace()
                guard reader.peek == UInt8(ascii: "\"") else { throw Malformed(reason: "the body is not JSON") }
                let name = try reader.string()
                reader.skipWhitespace()
                try reader.expect(UInt8(ascii: ":"))
                reader.skipWhitespace()
                if reader.peek == UInt8(ascii: "\"") {
                    members[name] = .string(try reader.string())
                } else {
                    members[name] = .raw(try reader.skipValue(depth: 1))
                }
                reader.skipWhitespace()
                if reader.peek == UInt8(ascii: ",") {
                    reader.index += 1
                    continue
                }
                try reader.expect(UInt8(ascii: "}"))
                break
            }
        }
        reader.skipWhitespace()
        guard reader.isAtEnd else { throw Malformed(reason: "the body is not JSON") }
        return members
    }

    /// Whether the bytes are well-formed UTF-8, checked once so that strings can be copied as they are.
    static func isUTF8(_ bytes: [UInt8]) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    /// `text` as a JSON string, as ``appendString(_:to:)`` writes it.
    static func quoted(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        appendString(text, to: &bytes)
        return bytes
    }

    /// Appends `text` as a JSON string: quoted, with `"`, `\` and control characters escaped.
    static func appendString(_ text: String, to bytes: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(byte)
            case UInt8(ascii: "\n"): bytes.append(contentsOf: #"\n"#.utf8)
            case UInt8(ascii: "\r"): bytes.append(contentsOf: #"\r"#.utf8)
            case UInt8(ascii: "\t"): bytes.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20:
                bytes.append(contentsOf: #"\u00"#.utf8)
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0x0f)])
            default:
                bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// A cursor over the document's bytes.
    private struct Reader {
        let bytes: [UInt8]
        var index = 0

        var isAtEnd: Bool { index >= bytes.count }
        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipWhitespace() {
            while let byte = peek, byte == 0x20 || byte == 0x0a || byte == 0x0d || byte == 0x09 { index += 1 }
        }

        mutating func expect(_ byte: UInt8) throws(Malformed) {
            guard peek == byte else { throw Malformed(reason: "the body is not JSON") }
            index += 1
        }

        /// Checks one value of any kind and returns its bytes.
        mutating func skipValue(depth: Int) throws(Malformed) -> ArraySlice<UInt8> {
            guard depth <= JSONEnvelopeText.maximumDepth else {
                throw Malformed(reason: "the body is not JSON: it nests deeper than \(JSONEnvelopeText.maximumDepth) levels")
            }
            let start = index
            guard let first = peek else { throw Malformed(reason: "the body is not JSON") }
            switch first {
            case UInt8(ascii: "\""):
                try skipString()
            case UInt8(ascii: "{"):
                try container(closing: UInt8(ascii: "}"), depth: depth, keyed: true)
            case UInt8(ascii: "["):
                try container(closing: UInt8(ascii: "]"), depth: depth, keyed: false)
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
            default: throw Malformed(reason: "the body is not JSON")
            }
            return bytes[start..<index]
        }

        private mutating func container(closing: UInt8, depth: Int, keyed: Bool) throws(Malformed) {
            index += 1
            skipWhitespace()
            if peek == closing {
                index += 1
                return
            }
            while true {
                skipWhitespace()
                if keyed {
                    guard peek == UInt8(ascii: "\"") else { throw Malformed(reason: "the body is not JSON") }
                    try skipString()
                    skipWhitespace()
                    try expect(UInt8(ascii: ":"))
                    skipWhitespace()
                }
                _ = try skipValue(depth: depth + 1)
                skipWhitespace()
                if peek == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                try expect(closing)
                return
            }
        }

        private mutating func literal(_ word: StaticString) throws(Malformed) {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { throw Malformed(reason: "the body is not JSON") }
            for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] {
                throw Malformed(reason: "the body is not JSON")
            }
            index += count
        }

        /// Checks a number; one too large for a `Double` (`1e999`) is refused, as no reader could hold it.
        private mutating func number() throws(Malformed) {
            let start = index
            try numberSyntax()
            let text = bytes[start..<index]
            if text.count > 15 || text.contains(UInt8(ascii: "e")) || text.contains(UInt8(ascii: "E")) {
                guard let value = Double(String(decoding: text, as: UTF8.self)), value.isFinite else {
                    throw Malformed(reason: "the body is not JSON: the number \(String(decoding: text.prefix(40), as: UTF8.self)) is out of range")
                }
            }
        }

        private mutating func numberSyntax() throws(Malformed) {
            func digits(_ reader: inout Reader) -> Int {
                var count = 0
                while let byte = reader.peek, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                    reader.index += 1
                    count += 1
                }
                return count
            }
            if peek == UInt8(ascii: "-") { index += 1 }
            if peek == UInt8(ascii: "0") {
                index += 1
            } else if digits(&self) == 0 {
                throw Malformed(reason: "the body is not JSON")
            }
            if peek == UInt8(ascii: ".") {
                index += 1
                guard digits(&self) > 0 else { throw Malformed(reason: "the body is not JSON") }
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                index += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
                guard digits(&self) > 0 else { throw Malformed(reason: "the body is not JSON") }
            }
        }

        /// Checks a string starting at its opening quote without keeping it.
        mutating func skipString() throws(Malformed) {
            var discarded: [UInt8] = []
            index += 1
            while true {
                guard let byte = peek else { throw Malformed(reason: "the body is not JSON") }
                index += 1
                switch byte {
                case UInt8(ascii: "\""): return
                case UInt8(ascii: "\\"):
                    discarded.removeAll(keepingCapacity: true)
                    try escape(into: &discarded)
                case 0..<0x20: throw Malformed(reason: "the body is not JSON")
                default: continue
                }
            }
        }

        /// Reads a string starting at its opening quote, unescaping it; refuses raw control characters,
        /// unknown escapes and lone surrogates (the document was checked to be UTF-8 before).
        mutating func string() throws(Malformed) -> String {
            index += 1
            var text: [UInt8] = []
            while true {
                guard let byte = peek else { throw Malformed(reason: "the body is not JSON") }
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return String(decoding: text, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    try escape(into: &text)
                case 0..<0x20:
                    throw Malformed(reason: "the body is not JSON")
                default:
                    text.append(byte)
                }
            }
        }

        private mutating func escape(into text: inout [UInt8]) throws(Malformed) {
            guard let byte = peek else { throw Malformed(reason: "the body is not JSON") }
            index += 1
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(byte)
            case UInt8(ascii: "b"): text.append(0x08)
            case UInt8(ascii: "f"): text.append(0x0c)
            case UInt8(ascii: "n"): text.append(0x0a)
            case UInt8(ascii: "r"): text.append(0x0d)
            case UInt8(ascii: "t"): text.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hexQuad()
                if (0xD800..<0xDC00).contains(scalar) {
                    guard peek == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") else {
                        throw Malformed(reason: "the body is not JSON")
                    }
                    index += 2
                    let low = try hexQuad()
                    guard (0xDC00..<0xE000).contains(low) else { throw Malformed(reason: "the body is not JSON") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw Malformed(reason: "the body is not JSON") }
                text.append(contentsOf: String(Character(unicode)).utf8)
            default:
                throw Malformed(reason: "the body is not JSON")
            }
        }

        private mutating func hexQuad() throws(Malformed) -> UInt32 {
            guard index + 4 <= bytes.count else { throw Malformed(reason: "the body is not JSON") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                index += 1
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw Malformed(reason: "the body is not JSON")
                }
                value = value << 4 | UInt32(digit)
            }
            return value
        }
    }
}
