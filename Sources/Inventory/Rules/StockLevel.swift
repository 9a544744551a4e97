/// The stock of one SKU: what can still be sold and what is held for paid orders.
///
/// Both are never negative; `available + reserved` changes only through adjustments, so that
/// initial stock plus adjustments always equals available plus reserved.
package struct StockLevel: Sendable, Hashable, Codable {
    package var sku: String
    package var available: Int
    package var reserved: Int

    package init(sku: String, available: Int, reserved: Int) {
        self.sku = sku
        self.available = available
        self.reserved = reserved
    }

    /// The level after a `stock.adjusted` of `delta` units.
    ///
    /// - Throws: ``StockAdjustmentError`` when the adjustment would take more than is available;
    ///   reserved units belong to paid orders and are never taken back by an adjustment.
    package func adjusted(by delta: Int) throws(StockAdjustmentError) -> StockLevel {
        let (result, overflow) = available.addingReportingOverflow(delta)
        guard !overflow, result >= 0 else {
            throw StockAdjustmentError(sku: sku, delta: delta, available: available, reserved: reserved)
        }
        return StockLevel(sku: sku, available: result, reserved: reserved)
    }
}
