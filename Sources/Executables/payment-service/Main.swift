import Contracts
import Payment
import ServiceKit

@main
struct Main {
    static func main() async {
        await ServiceMain.run(SystemCatalog.payment) { settings in try await PaymentService.run(settings: settings) }
    }
}
