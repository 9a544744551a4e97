/// A way to tell a customer how their order ended: an email, a webhook, …
///
/// A channel may be asked to send the same notification more than once (a retry after another
/// channel failed, a redelivery after a crash before the commit); it must make a repeat harmless,
/// keyed by ``CustomerNotification/id`` — overwrite rather than add, or let the receiver deduplicate.
package protocol NotificationChannel: Sendable {
    /// A short name recorded with each result: `email`, `webhook`.
    var name: String { get }

    /// Sends the notification.
    ///
    /// - Throws: a ``Messaging/ClassifiedError`` saying whether trying again may help; an
    ///   unclassified error counts as transient.
    func send(_ notification: CustomerNotification) async throws
}
