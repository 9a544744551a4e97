import Foundation

/// A notification as recorded: one per order and outcome.
package struct NotificationRecord: Sendable, Hashable {
    package var id: String
    package var orderID: String
    package var outcome: String
    package var recipient: String
    /// `sent`, or `failed` when a channel still failed after the last retry.
    package var status: String
    package var channelResults: [ChannelResult]
    package var createdAt: Date
}
