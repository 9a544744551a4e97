import Metrics
import Telemetry

/// The counters of notification-service, exposed on `/metrics`; each handle made once.
enum NotificationMetrics {
    private static let notifications = MetricFamily(counter: "orderly_notifications_total", dimensions: ["outcome", "status"])
    private static let duplicates = MetricFamily(counter: "orderly_notifications_duplicate_total", dimensions: ["outcome"])
    private static let channelFailures = MetricFamily(counter: "orderly_notification_channel_failures_total", dimensions: ["channel"])

    /// A notification recorded, by outcome and whether every channel sent it.
    static func recorded(_ outcome: CustomerNotification.Outcome, sent: Bool) {
        notifications(outcome.rawValue, sent ? "sent" : "failed").increment()
    }

    /// An outcome event for an order already notified.
    static func duplicate(_ outcome: CustomerNotification.Outcome) { duplicates(outcome.rawValue).increment() }

    /// A channel that failed to send (each attempt counts).
    static func channelFailed(_ channel: String) { channelFailures(channel).increment() }
}
