import Contracts
import Foundation
import Messaging
import MessagingConventions
import ServiceKit

/// Where notification-service keeps its state, which queues and exchanges it uses, and its channels.
///
/// The defaults are production's; tests pass a unique schema, unique queues and exchanges, and a
/// temporary mail folder.
package struct NotificationConfiguration: MessagingConfiguration {
    /// Where and how to POST notifications.
    package struct Webhook: Sendable, Hashable {
        package var url: String
        /// The Standard Webhooks secret that signs each delivery: `whsec_` and base64 (``WebhookSecret``).
        package var secret: String
        package var timeout: Duration

        package init(url: String, secret: String, timeout: Duration = .seconds(5)) {
            self.url = url
            self.secret = secret
            self.timeout = timeout
        }
    }

    package var schema: String
    package var queues: ServiceQueues
    /// Where `notification.sent` and `notification.failed` are published.
    package var exchange: String
    package var source: String
    package var prefetch: UInt16
    /// The folder the email sink writes messages into.
    package var mailDirectory: URL
    /// The `From` mailbox of the emails.
    package var mailFrom: String
    /// The webhook, when one is configured.
    package var webhook: Webhook?
    /// The longest a batch waits for more deliveries while they pour in (`ORDERLY_BATCH_LINGER_MS`; see ``BatchRhythm``).
    package var batchLinger: Duration = BatchRhythm.defaultLinger

    package init(
        schema: String = "notifications", queues: ServiceQueues = Subscriptions.notification, exchange: String = Exchange.notifications,
        source: String = "/orderly/notification-service", prefetch: UInt16 = 64,
        mailDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".data/mail"),
        mailFrom: String = "Orderly <orders@orderly.local>", webhook: Webhook? = nil
    ) {
        self.schema = schema
        self.queues = queues
        self.exchange = exchange
        self.source = source
        self.prefetch = prefetch
        self.mailDirectory = mailDirectory
        self.mailFrom = mailFrom
        self.webhook = webhook
    }

    /// The configuration from the environment, with production's queues and schema.
    ///
    /// | variable | default |
    /// | --- | --- |
    /// | `ORDERLY_MAIL_DIR` | `<cwd>/.data/mail` |
    /// | `ORDERLY_MAIL_FROM` | `Orderly <orders@orderly.local>` |
    /// | `ORDERLY_WEBHOOK_URL` | unset: no webhook |
    /// | `ORDERLY_WEBHOOK_SECRET` | required when the URL is set: `whsec_` and base64 of 24 to 64 bytes |
    /// | `ORDERLY_WEBHOOK_TIMEOUT_SECONDS` | `5` |
    ///
    /// - Throws: ``SettingsError`` when the webhook URL is set without a secret, or a value is malformed.
    package init(settings: ServiceSettings) throws {
        self.init()
        let mailDir = settings.string("ORDERLY_MAIL_DIR", default: "")
        if !mailDir.isEmpty { mailDirectory = URL(fileURLWithPath: mailDir) }
        mailFrom = settings.string("ORDERLY_MAIL_FROM", default: mailFrom)
        batchLinger = try settings.batchLinger
        let url = settings.string("ORDERLY_WEBHOOK_URL", default: "")
        if !url.isEmpty {
            let secret = settings.string("ORDERLY_WEBHOOK_SECRET", default: "")
            guard !secret.isEmpty else {
                throw SettingsError("ORDERLY_WEBHOOK_SECRET must be set when ORDERLY_WEBHOOK_URL is, so that receivers can verify the signature")
            }
            guard WebhookSecret(secret) != nil else {
                throw SettingsError(
                    "ORDERLY_WEBHOOK_SECRET must be a Standard Webhooks secret, whsec_ followed by base64 of 24 to 64 bytes (echo \"whsec_$(openssl rand -base64 32)\")"
                )
            }
            webhook = Webhook(url: url, secret: secret, timeout: try settings.seconds("ORDERLY_WEBHOOK_TIMEOUT_SECONDS", default: .seconds(5)))
        }
    }

    /// The channels this configuration enables: the email sink always, the webhook when configured.
    package func channels() -> [any NotificationChannel] {
        var channels: [any NotificationChannel] = [EmailSink(directory: mailDirectory, from: mailFrom)]
        if let webhook { channels.append(WebhookChannel(url: webhook.url, secret: webhook.secret, timeout: webhook.timeout)) }
        return channels
    }
}
