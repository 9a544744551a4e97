import Foundation

/// A Swift type that can be read from a result column in PostgreSQL's text format.
///
/// Conforming types: `String`, `Int`, `Int16`, `Int32`, `Int64`, `Bool`, `Double`, `UUID`, `Date` (from
/// `timestamptz`, `timestamp` or `date`), `[UInt8]` and `Data` (from `bytea`), arrays of decodable elements
/// (from one-dimensional arrays), and `Optional` (where SQL `NULL` is `nil`).
///
/// Decode through `PostgresRow.decode(_:_:)`, which turns a failure into a ``PostgresError`` with code
/// ``PostgresError/Code/decoding`` naming the column.
public protocol PostgresDecodable: Sendable {
    /// Reads the value from its text form.
    ///
    /// - Throws: ``PostgresDecodingFailure`` (or any error) when the text is not a valid value of this type.
    init(postgresText text: String) throws

    /// The value SQL `NULL` decodes to, or `nil` when this type cannot represent `NULL`.
    ///
    /// The default is `nil`, so decoding `NULL` into a non-optional type fails; `Optional` answers `.some(nil)`.
    static var postgresNull: Self? { get }

    /// How an array of this type is read; the default parses a one-dimensional array literal.
    /// `UInt8` overrides it so `[UInt8]` reads `bytea`.
    static func decodeArray(postgresText text: String) throws -> [Self]
}

/// Why a text value could not be decoded; wrapped into a ``PostgresError`` that names the column.
public struct PostgresDecodingFailure: Error, CustomStringConvertible, Sendable {
    /// What was wrong with the value.
    public var reason: String

    /// Creates a failure with a reason such as `"not an integer"`.
    public init(_ reason: String) { self.reason = reason }

    /// The reason.
    public var description: String { reason }
}

extension PostgresDecodable {
    /// `nil`: this type cannot hold SQL `NULL`.
    public static var postgresNull: Self? { nil }

    /// Parses `{…}` and decodes each element; a `NULL` element must decode through ``postgresNull``.
    public static func decodeArray(postgresText text: String) throws -> [Self] {
        guard let elements = PostgresArrayLiteral.decode(text) else {
            throw PostgresDecodingFailure("not a one-dimensional array literal")
        }
        return try elements.enumerated().map { offset, element in
            guard let element else {
                guard let null = postgresNull else { throw PostgresDecodingFailure("element \(offset) is NULL") }
                return null
            }
            return try Self(postgresText: element)
        }
    }
}

extension String: PostgresDecodable {
    /// The text itself.
    public init(postgresText text: String) throws { self = text }
}

extension PostgresDecodable where Self: FixedWidthInteger {
    /// Decimal digits, as PostgreSQL prints `int2`, `int4`, `int8` and `oid`, that fit the type.
    public init(postgresText text: String) throws {
        guard let value = Self(text, radix: 10) else { throw PostgresDecodingFailure("not an integer that fits \(Self.self)") }
        self = value
    }
}

extension Int: PostgresDecodable {}
extension Int16: PostgresDecodable {}
extension Int32: PostgresDecodable {}
extension Int64: PostgresDecodable {}

extension Bool: PostgresDecodable {
    /// `t` or `f`, as PostgreSQL prints `boolean` (also `true`/`false`).
    public init(postgresText text: String) throws {
        switch text {
        case "t", "true": self = true
        case "f", "false": self = false
        default: throw PostgresDecodingFailure("not a boolean")
        }
    }
}

extension Double: PostgresDecodable {
    /// A decimal or exponent number, `NaN`, `Infinity` or `-Infinity` (from `float8`, `float4`, `numeric`).
    public init(postgresText text: String) throws {
        switch text {
        case "NaN": self = .nan
        case "Infinity": self = .infinity
        case "-Infinity": self = -.infinity
        default:
            guard let value = Double(text) else { throw PostgresDecodingFailure("not a number") }
            self = value
        }
    }
}

extension UUID: PostgresDecodable {
    /// The canonical 36-character form.
    public init(postgresText text: String) throws {
        guard let value = UUID(uuidString: text) else { throw PostgresDecodingFailure("not a UUID") }
        self = value
    }
}

extension Date: PostgresDecodable {
    /// ISO text of `timestamptz`, `timestamp` (read as UTC) or `date` (midnight UTC), with microseconds.
    public init(postgresText text: String) throws {
        guard let value = PostgresTimestamp.parse(text) else { throw PostgresDecodingFailure("not an ISO timestamp") }
        self = value
    }
}

extension Data: PostgresDecodable {
    /// `bytea` in hex format (`\x…`).
    public init(postgresText text: String) throws {
        guard let bytes = PostgresBytea.decode(text) else { throw PostgresDecodingFailure("not bytea in hex format") }
        self = Data(bytes)
    }
}

/// A lone byte is a number; `[UInt8]` is `bytea`.
extension UInt8: PostgresDecodable {
    /// `[UInt8]` reads `bytea` in hex format.
    public static func decodeArray(postgresText text: String) throws -> [UInt8] {
        guard let bytes = PostgresBytea.decode(text) else { throw PostgresDecodingFailure("not bytea in hex format") }
        return bytes
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    /// Decodes the wrapped type; only SQL `NULL` gives `nil`.
    public init(postgresText text: String) throws { self = try Wrapped(postgresText: text) }

    /// SQL `NULL` is `nil`.
    public static var postgresNull: Self? { .some(nil) }
}

extension Array: PostgresDecodable where Element: PostgresDecodable {
    /// A one-dimensional array (or `bytea` for `[UInt8]`).
    public init(postgresText text: String) throws { self = try Element.decodeArray(postgresText: text) }
}

extension PostgresDecodable where Self: RawRepresentable, RawValue == String {
    /// A closed set of strings (a Swift enum over a `text` column with a `CHECK`): the case whose raw value is the text.
    public init(postgresText text: String) throws {
        guard let value = Self(rawValue: text) else { throw PostgresDecodingFailure("not a \(Self.self): '\(text)'") }
        self = value
    }
}
