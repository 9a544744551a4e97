import AsyncHTTPClient
import Foundation
import Messaging
import NIOCore

/// POSTs each notification as JSON to a configured URL, signed with a shared secret.
///
/// Headers: `Content-Type: application/json`, `X-Orderly-Signature: sha256=<hex HMAC-SHA256 of the
/// body>` (see ``WebhookSignature``) and `X-Orderly-Notification-Id`, by which the receiver
/// deduplicates the repeats that at-least-once delivery brings.
public struct WebhookChannel: NotificationChannel {
    public var name: String { "webhook" }
    public let url: String
    public let secret: String
    public let timeout: Duration
    let client: HTTPClient

    public static let notificationIDHeader = "X-Orderly-Notification-Id"

    public init(url: String, secret: String, timeout: Duration = .seconds(5), client: HTTPClient = .shared) {
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.client = client
    }

    /// - Throws: ``TransientFailure`` when the receiver answers other than 2xx, does not answer
    ///   within the timeout, or cannot be reached.
    public func send(_ notification: CustomerNotification) async throws {
        let body = try WebhookPayload(notification).encoded()
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: WebhookSignature.headerName, value: WebhookSignature.sign(body: body, secret: secret))
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

extension Duration {
    var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}
