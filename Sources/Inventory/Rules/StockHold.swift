/// A quantity of one SKU held (or asked to be held) for an order.
public struct StockHold: Sendable, Hashable {
    public var sku: String
    public var quantity: Int

    public init(sku: String, quantity: Int) {
        self.sku = sku
        self.quantity = quantity
    }
}
