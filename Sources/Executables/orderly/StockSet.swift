import ArgumentParser
import Contracts
import Ingress
import Messaging

/// `orderly stock set SKU AVAILABLE`: the difference published as `stock.adjusted`.
struct StockSet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Make AVAILABLE units available, by publishing the difference as stock.adjusted.",
        discussion: "Reads the current level first; an order reserving stock in between is not lost, it only shifts the result."
    )
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var inventory: StockCommand.InventoryOptions
    @Argument(help: "The SKU.") var sku: String
    @Argument(help: "The units to have available.") var available: Int

    func validate() throws {
        guard available >= 0 else { throw ValidationError("stock cannot be negative") }
    }

    func run() async throws {
        let current = try await StockCommand.level(of: sku, at: inventory.inventoryURL)?.available ?? 0
        guard available != current else {
            print("\(sku) already has \(available) available")
            return
        }
        let adjustment = StockAdjusted(sku: sku, delta: available - current, reason: "orderly stock set")
        let violations = IngressValidation.violations(of: adjustment)
        guard violations.isEmpty else { throw IngressRefusal(type: .stockAdjusted, violations: violations) }
        let event = try CloudEvent(source: "/orderly/cli", event: .stockAdjusted, subject: sku, payload: adjustment)
        try await connection.publish(event)
    }
}
