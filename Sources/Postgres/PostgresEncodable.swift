import Foundation

/// A Swift value that can be sent to PostgreSQL as a bind parameter, in PostgreSQL's text format.
///
/// Values travel separately from the SQL text (`PQexecParams`), so no quoting or escaping happens and no value can
/// change the statement. The server infers each parameter's type from where it is used; add a cast in the SQL
/// (`$1::uuid`) where the context does not say.
///
/// Conforming types: `String`, `Int`, `Int32`, `Int64`, `Bool`, `Double`, `UUID`, `Date` (as `timestamptz`),
/// `[UInt8]` and `Data` (as `bytea`), arrays of encodable elements (as array literals, e.g. `text[]`), and
/// `Optional` (where `nil` is SQL `NULL`).
public protocol PostgresEncodable: Sendable {
    /// The value in PostgreSQL's text input format, or `nil` for SQL `NULL`.
    var postgresText: String? { get }

    /// How an array of this type is written; the default builds a one-dimensional array literal like
    /// `{"a","b",NULL}`. `UInt8` overrides it so `[UInt8]` becomes `bytea`.
    static func postgresText(ofArray elements: [Self]) -> String?
}

extension PostgresEncodable {
    /// Writes a one-dimensional array literal, double-quoting every element and escaping `"` and `\`.
    public static func postgresText(ofArray elements: [Self]) -> String? {
        // Closures, not key paths: a key path in generic code is built at run time, on every call.
        PostgresArrayLiteral.encode(elements.map { $0.postgresText })
    }
}

extension String: PostgresEncodable {
    /// The string itself.
    public var postgresText: String? { self }
}

extension Substring: PostgresEncodable {
    /// The substring as a string.
    public var postgresText: String? { String(self) }
}

extension Int: PostgresEncodable {
    /// The decimal digits.
    public var postgresText: String? { String(self) }
}

extension Int16: PostgresEncodable {
    /// The decimal digits.
    public var postgresText: String? { String(self) }
}

extension Int32: PostgresEncodable {
    /// The decimal digits.
    public var postgresText: String? { String(self) }
}

extension Int64: PostgresEncodable {
    /// The decimal digits.
    public var postgresText: String? { String(self) }
}

extension Bool: PostgresEncodable {
    /// `true` or `false`.
    public var postgresText: String? { self ? "true" : "false" }
}

extension Double: PostgresEncodable {
    /// The shortest text that reads back as the same value; `NaN`, `Infinity` and `-Infinity` as PostgreSQL spells them.
    public var postgresText: String? {
        if isNaN { return "NaN" }
        if isInfinite { return self < 0 ? "-Infinity" : "Infinity" }
        return description
    }
}

extension UUID: PostgresEncodable {
    /// The canonical lowercase form.
    public var postgresText: String? { uuidString.lowercased() }
}

extension Date: PostgresEncodable {
    /// ISO 8601 in UTC with microseconds (PostgreSQL's resolution), for example `2026-05-20T08:15:02.123456Z`.
    public var postgresText: String? { PostgresTimestamp.format(self) }
}

extension Data: PostgresEncodable {
    /// `bytea` in hex format: `\x` followed by two hex digits per byte.
    public var postgresText: String? { PostgresBytea.encode(self) }
}

extension UInt8: PostgresEncodable {
    /// The decimal digits (a lone byte is a number; `[UInt8]` is `bytea`).
    public var postgresText: String? { String(self) }

    /// `[UInt8]` is `bytea` in hex format, not an array of numbers.
    public static func postgresText(ofArray elements: [UInt8]) -> String? { PostgresBytea.encode(elements) }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    /// The wrapped value's text, or `nil` (SQL `NULL`).
    public var postgresText: String? { self.flatMap { $0.postgresText } }
}

extension Array: PostgresEncodable where Element: PostgresEncodable {
    /// An array literal such as `{"a","b"}` (or `bytea` for `[UInt8]`); elements that are `nil` become `NULL`.
    public var postgresText: String? { Element.postgresText(ofArray: self) }
}

/// PostgreSQL's `bytea` hex format.
enum PostgresBytea {
    private static let digits = Array("0123456789abcdef".utf8)

    static func encode<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        var text: [UInt8] = [UInt8(ascii: "\\"), UInt8(ascii: "x")]
        text.reserveCapacity(2 + bytes.underestimatedCount * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Parses `\x0aff…`; returns `nil` for anything else (the legacy escape format is never produced,
    /// because every server since 9.0 defaults to `bytea_output = hex`).
    static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 2, utf8[0] == UInt8(ascii: "\\"), utf8[1] == UInt8(ascii: "x"), utf8.count % 2 == 0 else {
            return nil
        }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity((utf8.count - 2) / 2)
        var index = 2
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }
}

extension PostgresEncodable where Self: RawRepresentable, RawValue == String {
    /// A closed set of strings: the case's raw value.
    public var postgresText: String? { rawValue }
}
