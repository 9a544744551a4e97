import Contracts
import Inventory
import ServiceKit

@main
struct Main {
    static func main() async {
        await ServiceMain.run(SystemCatalog.inventory) { settings in try await InventoryService.run(settings: settings) }
    }
}
