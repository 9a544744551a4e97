import Notification

/// notification-service: one customer notification per order outcome.
@main
struct Main {
    static func main() async throws {
        try await NotificationService.run()
    }
}
