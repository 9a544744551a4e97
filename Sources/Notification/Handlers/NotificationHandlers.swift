import Contracts
import Logging
import Messaging
import MessagingConventions
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
package struct NotificationHandlers: Sendable {
    package let store: NotificationStore
    package let channels: [any NotificationChannel]
    /// The attempt after which the consumer would park the event (1 + the number of retry tiers).
    package let lastAttempt: Int

    package init(store: NotificationStore, channels: [any NotificationChannel], lastAttempt: Int) {
        self.store = store
        self.channels = channels
        self.lastAttempt = lastAttempt
    }

    /// The handler for each order outcome type, for a ``MessageConsumer``.
    package var handlers: EventHandlers {
        var handlers = EventHandlers()
        for outcome in CustomerNotification.Outcome.allCases { handlers.on(outcome.event, batch: notify) }
        return handlers
    }

    /// Tells each customer how their order ended, once per order and outcome: a batch's notifications
    /// are claimed with one statement, sent side by side, and recorded with one statement.
    ///
    /// An event that is not an order outcome or has no usable address is parked (``PermanentFailure``);
    /// a channel's transient error (before the last attempt) has its notification tried again later.
    package func notify(_ contexts: [EventContext<OrderOutcome>]) async throws {
        guard let transaction = contexts.first?.transaction else { return }
        var valid: [(EventContext<OrderOutcome>, CustomerNotification)] = []
        for context in contexts {
            let payload = context.payload
            guard let notification = CustomerNotification(type: context.event.type, payload: payload, occurredAt: context.event.time) else {
                context.reject(PermanentFailure("\(context.event.type) is not an order outcome"))
                continue
            }
            guard payload.customer.email.contains("@") else {
                context.reject(PermanentFailure("order \(payload.orderID) has no usable customer email ('\(payload.customer.email)')"))
                continue
            }
            valid.append((context, notification))
        }
        let claimed = try await store.claim(valid.map(\.1), in: transaction)
        var toSend: [(EventContext<OrderOutcome>, CustomerNotification)] = []
        for (context, notification) in valid {
            guard claimed.contains(notification.id) else {
                logger(context, notification).info(
                    "outcome already notified; nothing sent", metadata: ["outcome": "\(notification.outcome.rawValue)"])
                NotificationMetrics.duplicate(notification.outcome)
                continue
            }
            toSend.append((context, notification))
        }
        let sent = await withTaskGroup(of: (Int, Result<[ChannelResult], any Error>).self) { group in
            for (index, (context, notification)) in toSend.enumerated() {
                group.addTask {
                    (index, await send(notification, lastAttempt: context.attempt >= lastAttempt, logger: logger(context, notification)))
                }
            }
            return await group.reduce(into: [Int: Result<[ChannelResult], any Error>]()) { $0[$1.0] = $1.1 }
        }
        var completed: [(id: String, status: String, results: [ChannelResult])] = []
        var released: [String] = []
        for (index, (context, notification)) in toSend.enumerated() {
            switch sent[index]! {
            case .failure(let error):
                released.append(notification.id)
                context.reject(error)
            case .success(let results):
                let failures = results.filter { !$0.sent }
                completed.append((notification.id, failures.isEmpty ? "sent" : "failed", results))
                let outcome = NotificationOutcome(
                    orderID: notification.orderID, notificationID: notification.id, outcome: notification.outcome.rawValue,
                    channel: (failures.isEmpty ? results : failures).map(\.channel).joined(separator: ","),
                    reason: failures.isEmpty ? nil : failures.map { "\($0.channel): \($0.error ?? "failed")" }.joined(separator: "; "))
                try context.emit(failures.isEmpty ? .notificationSent : .notificationFailed, subject: notification.orderID, payload: outcome)
                NotificationMetrics.recorded(notification.outcome, sent: failures.isEmpty)
                logger(context, notification).info(
                    failures.isEmpty ? "customer notified" : "customer notification failed", metadata: ["channels": "\(outcome.channel)"])
            }
        }
        try await store.release(released, in: transaction)
        try await store.complete(completed, in: transaction)
    }

    /// Sends through every channel; a transient failure before the last attempt fails the whole send (to
    /// be tried again), any other failure is recorded in the channel's result.
    private func send(_ notification: CustomerNotification, lastAttempt: Bool, logger: Logger) async -> Result<[ChannelResult], any Error> {
        var results: [ChannelResult] = []
        for channel in channels {
            do {
                try await channel.send(notification)
                results.append(ChannelResult(channel: channel.name, sent: true))
            } catch  where FailureKind.of(error) == .transient && !lastAttempt {
                NotificationMetrics.channelFailed(channel.name)
                logger.warning("channel failed; the notification is retried", metadata: ["channel": "\(channel.name)", "error": "\(error)"])
                return .failure(error)
            } catch {
                NotificationMetrics.channelFailed(channel.name)
                logger.error("channel failed for good", metadata: ["channel": "\(channel.name)", "error": "\(error)"])
                results.append(ChannelResult(channel: channel.name, sent: false, error: "\(error)"))
            }
        }
        return .success(results)
    }

    private func logger(_ context: EventContext<OrderOutcome>, _ notification: CustomerNotification) -> Logger {
        var logger = context.logger(for: notification.orderID)
        logger[metadataKey: "notification.id"] = "\(notification.id)"
        return logger
    }
}
