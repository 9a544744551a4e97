import Contracts
import Order
import ServiceKit

@main
struct Main {
    static func main() async {
        await ServiceMain.run(SystemCatalog.order) { settings in try await OrderService.run(settings: settings) }
    }
}
