import Inventory

/// inventory-service: stock per SKU, reservations, and the saga's compensation.
@main
struct Main {
    static func main() async throws {
        try await InventoryService.run()
    }
}
