/// How one channel fared with one notification, as recorded.
package struct ChannelResult: Codable, Sendable, Hashable {
    package var channel: String
    package var sent: Bool
    /// Why it failed, when it did.
    package var error: String?

    package init(channel: String, sent: Bool, error: String? = nil) {
        self.channel = channel
        self.sent = sent
        self.error = error
    }
}
