import Metrics

/// The counters of inventory-service, exposed on `/metrics`.
enum InventoryMetrics {
    /// A `payment.succeeded` handled: `reserved`, `rejected`, `skipped_cancelled` or `already_decided`.
    static func reservation(_ outcome: String) {
        Counter(label: "orderly_inventory_reservations_total", dimensions: [("outcome", outcome)]).increment()
    }

    /// An order's held stock went back to available.
    static func released() {
        Counter(label: "orderly_inventory_releases_total").increment()
    }

    /// A `stock.adjusted` was applied.
    static func adjusted() {
        Counter(label: "orderly_inventory_adjustments_total").increment()
    }
}
