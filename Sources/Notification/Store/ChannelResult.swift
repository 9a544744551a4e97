/// How one channel fared with one notification, as recorded.
public struct ChannelResult: Codable, Sendable, Hashable {
    public var channel: String
    public var sent: Bool
    /// Why it failed, when it did.
    public var error: String?

    public init(channel: String, sent: Bool, error: String? = nil) {
        self.channel = channel
        self.sent = sent
        self.error = error
    }
}
