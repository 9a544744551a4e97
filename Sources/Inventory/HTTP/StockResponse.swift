import Hummingbird

/// The body of `GET /v1/stock/{sku}`.
public struct StockResponse: ResponseCodable, Sendable, Hashable {
    public var sku: String
    public var available: Int
    public var reserved: Int

    public init(_ level: StockLevel) {
        sku = level.sku
        available = level.available
        reserved = level.reserved
    }
}
