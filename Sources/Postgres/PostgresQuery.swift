/// A SQL statement with its bind parameters, written as a string interpolation.
///
/// Every interpolated value becomes a parameter `$1`, `$2`, … and travels separately from the SQL text, so a value
/// can never change the statement:
///
/// ```swift
/// let rows = try await pool.query("SELECT id FROM orders WHERE customer_id = \(customerID) AND status = \(status)")
/// ```
///
/// For trusted identifiers that cannot be parameters (schema or table names from configuration), use
/// `\(identifier: name)`, which double-quotes and escapes, or `\(unescaped: sql)`, which splices text as it is
/// and must never carry user input.
public struct PostgresQuery: Sendable, Hashable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The SQL text with `$n` placeholders.
    public var sql: String
    /// The parameters in PostgreSQL text format, `$1` first; `nil` is SQL `NULL`.
    public var parameters: [String?]

    /// Creates a query from SQL text and already-encoded parameters.
    ///
    /// The SQL is used as it is: build it only from trusted text.
    public init(unsafeSQL sql: String, parameters: [any PostgresEncodable] = []) {
        self.sql = sql
        self.parameters = parameters.map { $0.postgresText }
    }

    /// A query with no parameters.
    public init(stringLiteral value: String) {
        self.sql = value
        self.parameters = []
    }

    /// A query built by interpolation; see ``StringInterpolation``.
    public init(stringInterpolation: StringInterpolation) {
        self.sql = stringInterpolation.sql
        self.parameters = stringInterpolation.parameters
    }

    /// The SQL text (parameters are not shown, as they may be secrets or personal data).
    public var description: String { sql }

    /// Collects SQL text and turns each interpolated value into a bind parameter.
    public struct StringInterpolation: StringInterpolationProtocol, Sendable {
        var sql: String
        var parameters: [String?]

        /// Reserves room for the literal text.
        public init(literalCapacity: Int, interpolationCount: Int) {
            sql = ""
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
            parameters = []
            parameters.reserveCapacity(interpolationCount)
        }

        /// Appends SQL text as it is.
        public mutating func appendLiteral(_ literal: String) {
            sql += literal
        }

        /// Appends `$n` and binds the value as parameter `n`.
        public mutating func appendInterpolation(_ value: some PostgresEncodable) {
            parameters.append(value.postgresText)
            sql += "$\(parameters.count)"
        }

        /// Appends `$n` and binds the value as parameter `n`, or SQL `NULL` for `nil`.
        public mutating func appendInterpolation(_ value: (some PostgresEncodable)?) {
            parameters.append(value.flatMap { $0.postgresText })
            sql += "$\(parameters.count)"
        }

        /// Appends a double-quoted identifier (`"my schema"."t"` style quoting, `"` doubled), safe for any text.
        public mutating func appendInterpolation(identifier: String) {
            sql += PostgresQuery.quoteIdentifier(identifier)
        }

        /// Appends text to the SQL as it is, for trusted fragments such as schema names from configuration.
        ///
        /// Never pass user input here: it is not escaped.
        public mutating func appendInterpolation(unescaped: String) {
            sql += unescaped
        }
    }

    /// Double-quotes an identifier, doubling any `"` inside, so it is taken literally (and case-sensitively).
    public static func quoteIdentifier(_ identifier: String) -> String {
        var quoted = "\""
        for character in identifier {
            if character == "\"" { quoted += "\"" }
            quoted.append(character)
        }
        return quoted + "\""
    }
}
