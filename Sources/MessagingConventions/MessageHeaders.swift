/// The headers Orderly adds to retried and parked messages.
public enum MessageHeaders {
    /// How many times the message has been handled so far (a retried message carries it).
    public static let attempts = "x-orderly-attempts"
    /// The most attempts a message may claim; far above any retry policy, far below any integer limit.
    public static let maxAttempts = 1000

    /// The last failure, on retried and parked messages.
    public static let lastError = "x-orderly-last-error"
    /// Why the message was parked.
    public static let parkedReason = "x-orderly-parked-reason"
    /// When it was parked.
    public static let parkedAt = "x-orderly-parked-at"
    /// `transient` (retries exhausted) or `permanent`.
    public static let failureKind = "x-orderly-failure-kind"
    /// Where the message first came from.
    public static let originalExchange = "x-orderly-original-exchange"
    public static let originalRoutingKey = "x-orderly-original-routing-key"
}
