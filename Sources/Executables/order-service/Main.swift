import Order
import ServiceKit

@main
struct Main {
    static func main() async throws {
        try await OrderService.run(settings: ServiceSettings(name: "order-service", defaultPort: 8080))
    }
}
