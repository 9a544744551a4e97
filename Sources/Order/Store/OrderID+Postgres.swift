import Contracts
import Foundation
import Postgres

extension OrderID: PostgresEncodable {
    /// The canonical lowercase form, as a `uuid` column takes it.
    public var postgresText: String? { description }
}

extension PostgresRow {
    /// The order id in `column`, a `uuid` column.
    func orderID(_ column: String) throws -> OrderID { OrderID(try decode(UUID.self, column)) }
}
