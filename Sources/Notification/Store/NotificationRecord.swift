import Foundation

/// A notification as recorded: one per order and outcome.
public struct NotificationRecord: Sendable, Hashable {
    public var id: String
    public var orderID: String
    public var outcome: String
    public var recipient: String
    /// `sent`, or `failed` when a channel still failed after the last retry.
    public var status: String
    public var channelResults: [ChannelResult]
    public var createdAt: Date
}
