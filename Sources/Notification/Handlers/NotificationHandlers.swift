import Contracts
import Logging
import Messaging
import ServiceKit

/// The event handler of notification-service: one customer notification per order and outcome.
///
/// Runs inside the ``MessageConsumer``'s transaction. The notification row is claimed first (a
/// duplicate outcome event, under any event id, finds it and sends nothing), then every channel
/// sends, then the result is recorded and `notification.sent` emitted — all committed together.
///
/// A channel failing transiently rolls everything back and the event goes through the retry tiers;
/// the channels that had succeeded send again on the retry, which they make harmless by the
/// notification id. On the last attempt a failing channel no longer blocks the others: the
/// notification is recorded as failed and `notification.failed` says which channel and why, so an
/// outage of one receiver ends in a recorded outcome rather than a parked message.
public struct NotificationHandlers: Sendable {
    public let store: NotificationStore
    public let channels: [any NotificationChannel]
    /// The attempt after which the consumer would park the event (1 + the number of retry tiers).
    public let lastAttempt: Int

    public init(store: NotificationStore, channels: [any NotificationChannel], lastAttempt: Int) {
        self.store = store
        self.channels = channels
        self.lastAttempt = lastAttempt
    }

    /// The handler for each order outcome type, for a ``MessageConsumer``.
    public var handlers: EventHandlers {
        var handlers = EventHandlers()
        for outcome in CustomerNotification.Outcome.allCases { handlers.on(outcome.rawValue, as: OrderOutcome.self, each: notify) }
        return handlers
    }

    /// Tells the customer how their order ended, once per order and outcome.
    ///
    /// - Throws: ``PermanentFailure`` for an event that is not an order outcome or has no usable
    ///   address; a channel's transient error (before the last attempt).
    public func notify(_ context: EventContext<OrderOutcome>) async throws {
        let payload = context.payload
        guard let notification = CustomerNotification(type: context.event.type, payload: payload, occurredAt: context.event.time) else {
            throw PermanentFailure("\(context.event.type) is not an order outcome")
        }
        guard payload.customer.email.contains("@") else {
            throw PermanentFailure("order \(payload.orderID) has no usable customer email ('\(payload.customer.email)')")
        }
        var logger = context.logger(for: notification.orderID)
        logger[metadataKey: "notification.id"] = "\(notification.id)"

        guard try await store.claim(notification, in: context.transaction) else {
            logger.info("outcome already notified; nothing sent", metadata: ["outcome": "\(notification.outcome.rawValue)"])
            NotificationMetrics.duplicate(notification.outcome)
            return
        }
        let isLastAttempt = context.attempt >= lastAttempt
        var results: [ChannelResult] = []
        for channel in channels {
            do {
                try await channel.send(notification)
                results.append(ChannelResult(channel: channel.name, sent: true))
            } catch  where FailureKind.of(error) == .transient && !isLastAttempt {
                NotificationMetrics.channelFailed(channel.name)
                logger.warning("channel failed; the notification is retried", metadata: ["channel": "\(channel.name)", "error": "\(error)"])
                throw error
            } catch {
                NotificationMetrics.channelFailed(channel.name)
                logger.error("channel failed for good", metadata: ["channel": "\(channel.name)", "error": "\(error)"])
                results.append(ChannelResult(channel: channel.name, sent: false, error: "\(error)"))
            }
        }
        let failures = results.filter { !$0.sent }
        try await store.complete(notification.id, status: failures.isEmpty ? "sent" : "failed", results: results, in: context.transaction)
        let outcome: NotificationOutcome
        let type: EventType
        if failures.isEmpty {
            type = .notificationSent
            outcome = NotificationOutcome(
                orderID: notification.orderID, notificationID: notification.id, outcome: notification.outcome.rawValue,
                channel: results.map(\.channel).joined(separator: ",")
            )
        } else {
            type = .notificationFailed
            outcome = NotificationOutcome(
                orderID: notification.orderID, notificationID: notification.id, outcome: notification.outcome.rawValue,
                channel: failures.map(\.channel).joined(separator: ","),
                reason: failures.map { "\($0.channel): \($0.error ?? "failed")" }.joined(separator: "; ")
            )
        }
        try context.emit(type, subject: notification.orderID, payload: outcome)
        NotificationMetrics.recorded(notification.outcome, sent: failures.isEmpty)
        logger.info(failures.isEmpty ? "customer notified" : "customer notification failed", metadata: ["channels": "\(outcome.channel)"])
    }
}
