import Contracts
import Notification
import ServiceKit

@main
struct Main {
    static func main() async {
        await ServiceMain.run(SystemCatalog.notification) { settings in try await NotificationService.run(settings: settings) }
    }
}
