import AsyncHTTPClient
import Foundation
import Messaging
import NIOCore
import Timing

/// POSTs each notification as JSON to a configured URL, signed as Standard Webhooks have it.
///
/// Headers: `Content-Type: application/json`, `webhook-id` (the notification's id, the same on
/// every retry, by which the receiver deduplicates the repeats that at-least-once delivery brings),
/// `webhook-timestamp` and `webhook-signature` (see ``WebhookSignature``), and
/// `X-Orderly-Notification-Id`, the same id under its earlier name.
package struct WebhookChannel: NotificationChannel {
    package var name: String { "webhook" }
    package let url: String
    /// The shared secret, `whsec_<base64>` (``WebhookSecret``).
    package let secret: String
    package let timeout: Duration
    let client: HTTPClient

    package static let notificationIDHeader = "X-Orderly-Notification-Id"

    package init(url: String, secret: String, timeout: Duration = .seconds(5), client: HTTPClient = .shared) {
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.client = client
    }

    /// - Throws: ``TransientFailure`` when the receiver answers other than 2xx, does not answer
    ///   within the timeout, or cannot be reached; ``PermanentFailure`` when the secret is not a
    ///   Standard Webhooks secret (the settings refuse one at start).
    package func send(_ notification: CustomerNotification) async throws {
        guard let key = WebhookSecret(secret) else {
            throw PermanentFailure("the webhook secret is not whsec_ followed by base64 of 24 to 64 bytes")
        }
        let body = try WebhookPayload(notification).encoded()
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        for header in WebhookSignature.headers(id: notification.id, body: body, secret: key) {
            request.headers.add(name: header.name, value: header.value)
        }
        request.headers.add(name: Self.notificationIDHeader, value: notification.id)
        request.body = .bytes(ByteBuffer(bytes: body))
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .nanoseconds(timeout.nanoseconds))
            // Drain the answer so that the connection can be reused.
            for try await _ in response.body {}
        } catch {
            throw TransientFailure("webhook \(url) did not answer for notification \(notification.id): \(error)")
        }
        guard (200..<300).contains(response.status.code) else {
            throw TransientFailure("webhook \(url) answered \(response.status.code) for notification \(notification.id)")
        }
    }
}
