import Contracts
import GatewaySim
import ServiceKit

@main
struct Main {
    static func main() async {
        await ServiceMain.run(SystemCatalog.gatewaySim) { settings in try await GatewaySimulator.run(settings: settings) }
    }
}
