import Contracts
import Postgres

extension OrderID: PostgresEncodable, PostgresDecodable {
    /// The canonical lowercase form, as a `uuid` column takes it.
    package var postgresText: String? { description }

    /// A `uuid` column's text.
    package init(postgresText text: String) throws {
        guard let id = OrderID(text) else { throw PostgresDecodingFailure("not an order id: '\(text)'") }
        self = id
    }
}
