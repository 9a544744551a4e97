import Metrics

/// The counters of notification-service, exposed on `/metrics`.
enum NotificationMetrics {
    /// A notification recorded, by outcome and whether every channel sent it.
    static func recorded(_ outcome: CustomerNotification.Outcome, sent: Bool) {
        Counter(label: "orderly_notifications_total", dimensions: [("outcome", outcome.rawValue), ("status", sent ? "sent" : "failed")]).increment()
    }

    /// An outcome event for an order already notified.
    static func duplicate(_ outcome: CustomerNotification.Outcome) {
        Counter(label: "orderly_notifications_duplicate_total", dimensions: [("outcome", outcome.rawValue)]).increment()
    }

    /// A channel that failed to send (each attempt counts).
    static func channelFailed(_ channel: String) {
        Counter(label: "orderly_notification_channel_failures_total", dimensions: [("channel", channel)]).increment()
    }
}
