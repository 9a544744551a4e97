import Hummingbird

/// The body of `GET /v1/stock/{sku}`.
package struct StockResponse: ResponseCodable, Sendable, Hashable {
    package var sku: String
    package var available: Int
    package var reserved: Int

    package init(_ level: StockLevel) {
        sku = level.sku
        available = level.available
        reserved = level.reserved
    }
}
