/// A quantity of one SKU held (or asked to be held) for an order.
package struct StockHold: Sendable, Hashable {
    package var sku: String
    package var quantity: Int

    package init(sku: String, quantity: Int) {
        self.sku = sku
        self.quantity = quantity
    }
}
