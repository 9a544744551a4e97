import ArgumentParser

/// `orderly stock show SKU`: available and reserved units, from inventory-service.
struct StockShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Print available and reserved units.")
    @OptionGroup var inventory: StockCommand.InventoryOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "The SKU.") var sku: String

    struct Report: Encodable {
        var sku: String
        var known: Bool
        var available: Int
        var reserved: Int
    }

    func run() async throws {
        let level = try await StockCommand.level(of: sku, at: inventory.inventoryURL)
        let report = Report(sku: sku, known: level != nil, available: level?.available ?? 0, reserved: level?.reserved ?? 0)
        try output.print(report) {
            if report.known {
                print("\(sku): \(report.available) available, \(report.reserved) reserved")
            } else {
                print("\(sku): unknown (counts as 0 available)")
            }
        }
    }
}
