/// One row of a query result, with its values in PostgreSQL's text format.
///
/// Rows are plain values copied out of libpq's result, so they can be kept and sent between tasks freely.
/// Read columns with `decode(_:_:)` by column name or by zero-based index:
///
/// ```swift
/// let id = try row.decode(UUID.self, "id")
/// let note = try row.decode(String?.self, "note")   // NULL is nil
/// ```
public struct PostgresRow: Sendable, CustomStringConvertible {
    /// The result's column names, shared by all rows of one result.
    let columns: PostgresColumns
    /// The values in column order; `nil` is SQL `NULL`.
    public let values: [String?]

    init(columns: PostgresColumns, values: [String?]) {
        self.columns = columns
        self.values = values
    }

    /// The column names, in order.
    public var columnNames: [String] { columns.names }

    /// Decodes the value of the column with this name (the first one, if several share it).
    ///
    /// - Throws: ``PostgresError`` with code ``PostgresError/Code/decoding`` when there is no such column, the value
    ///   is `NULL` and `T` is not optional, or the text is not a valid `T`; the message names the column.
    public func decode<T: PostgresDecodable>(_ type: T.Type, _ column: String) throws -> T {
        guard let index = columns.index(of: column) else {
            throw PostgresError(
                code: .decoding,
                message: "no column \"\(column)\" in the result (columns: \(columns.names.joined(separator: ", ")))"
            )
        }
        return try decode(type, index)
    }

    /// Decodes the value of the column at this zero-based index.
    ///
    /// - Throws: ``PostgresError`` with code ``PostgresError/Code/decoding`` when the index is out of range, the value
    ///   is `NULL` and `T` is not optional, or the text is not a valid `T`; the message names the column.
    public func decode<T: PostgresDecodable>(_ type: T.Type, _ index: Int) throws -> T {
        guard values.indices.contains(index) else {
            throw PostgresError(code: .decoding, message: "no column at index \(index) (the row has \(values.count))")
        }
        let name = columns.names[index]
        guard let text = values[index] else {
            guard let null = T.postgresNull else {
                throw PostgresError(
                    code: .decoding,
                    message: "column \"\(name)\" is NULL; decode it as \(T.self)? to accept NULL"
                )
            }
            return null
        }
        do {
            return try T(postgresText: text)
        } catch {
            let shown = text.count > 64 ? String(text.prefix(64)) + "…" : text
            throw PostgresError(
                code: .decoding,
                message: "column \"\(name)\": cannot decode \"\(shown)\" as \(T.self): \(error)"
            )
        }
    }

    /// Whether the column with this name exists and is SQL `NULL`.
    public func isNull(_ column: String) -> Bool {
        columns.index(of: column).map { values[$0] == nil } ?? false
    }

    /// `name=value` pairs, for debugging.
    public var description: String {
        zip(columns.names, values).map { "\($0)=\($1 ?? "NULL")" }.joined(separator: ", ")
    }
}

/// The column names of one result, with a lookup table built once and shared by every row.
final class PostgresColumns: Sendable {
    let names: [String]
    private let indexByName: [String: Int]

    init(names: [String]) {
        self.names = names
        var indexByName: [String: Int] = [:]
        for (index, name) in names.enumerated() where indexByName[name] == nil {
            indexByName[name] = index
        }
        self.indexByName = indexByName
    }

    func index(of name: String) -> Int? { indexByName[name] }
}
