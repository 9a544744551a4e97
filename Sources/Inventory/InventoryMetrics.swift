import Metrics
import Telemetry

/// The counters of inventory-service, exposed on `/metrics`; each handle made once.
enum InventoryMetrics {
    private static let reservations = MetricFamily(counter: "orderly_inventory_reservations_total", dimensions: ["outcome"])
    private static let releases = Counter(label: "orderly_inventory_releases_total")
    private static let adjustments = Counter(label: "orderly_inventory_adjustments_total")

    /// A `payment.succeeded` handled: `reserved`, `rejected`, `skipped_cancelled` or `already_decided`.
    static func reservation(_ outcome: String) { reservations(outcome).increment() }

    /// An order's held stock went back to available.
    static func released() { releases.increment() }

    /// A `stock.adjusted` was applied.
    static func adjusted() { adjustments.increment() }
}
