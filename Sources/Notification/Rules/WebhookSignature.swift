import Digests
import Foundation

/// Webhook signatures as the Standard Webhooks specification has them
/// (<https://www.standardwebhooks.com>), so that receivers can verify deliveries with the libraries
/// that exist for it, and reject stale or replayed ones.
///
/// Every delivery carries three headers:
///
/// | header | value |
/// | --- | --- |
/// | `webhook-id` | the notification's id: the same for every retry of one notification, so receivers deduplicate by it |
/// | `webhook-timestamp` | when this attempt was sent, in whole seconds since 1970 |
/// | `webhook-signature` | `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`; several, separated by spaces, while a secret is rotated |
///
/// The key is the shared secret, written `whsec_<base64 of the key bytes>` (``WebhookSecret``).
///
/// A receiver checks, with ``verify(id:timestamp:signatures:body:secrets:now:tolerance:)``: that the
/// timestamp is within the tolerance of its clock (5 minutes by default), so that a captured request
/// cannot be sent again later; that one of the signatures is the one it computes over the exact
/// bytes it received, compared in constant time; and, to refuse a replay inside the window, that it
/// has not seen the `webhook-id` before.
package enum WebhookSignature {
    package static let idHeader = "webhook-id"
    package static let timestampHeader = "webhook-timestamp"
    package static let signatureHeader = "webhook-signature"
    /// How far a delivery's timestamp may be from the receiver's clock, either way.
    package static let defaultTolerance: Duration = .seconds(300)

    /// The `webhook-signature` value of one delivery: `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`.
    package static func sign(id: String, timestamp: Int64, body: some Sequence<UInt8>, secret: WebhookSecret) -> String {
        "v1," + Data(mac(id: id, timestamp: timestamp, body: Array(body), key: secret.key)).base64EncodedString()
    }

    /// The three headers of a delivery sent at `date`.
    package static func headers(id: String, date: Date = Date(), body: some Sequence<UInt8>, secret: WebhookSecret) -> [(name: String, value: String)]
    {
        let timestamp = Int64(date.timeIntervalSince1970.rounded(.down))
        return [
            (idHeader, id), (timestampHeader, String(timestamp)), (signatureHeader, sign(id: id, timestamp: timestamp, body: body, secret: secret)),
        ]
    }

    /// Checks a delivery as a receiver must before it trusts the body.
    ///
    /// - Parameters:
    ///   - id, timestamp, signatures: the values of `webhook-id`, `webhook-timestamp` and `webhook-signature`.
    ///   - body: the raw bytes received, before any parsing.
    ///   - secrets: every secret currently accepted (more than one while a secret is rotated).
    ///   - now: the receiver's clock.
    /// - Throws: ``WebhookVerificationError`` saying which check failed.
    package static func verify(
        id: String?, timestamp: String?, signatures: String?, body: some Sequence<UInt8>, secrets: [WebhookSecret], now: Date = Date(),
        tolerance: Duration = defaultTolerance
    ) throws(WebhookVerificationError) {
        guard let id, !id.isEmpty, let timestamp, let signatures else { throw .missingHeaders }
        guard let seconds = Int64(timestamp) else { throw .malformedTimestamp }
        let skew = Double(seconds) - now.timeIntervalSince1970
        let allowed = Double(tolerance.components.seconds)
        guard skew >= -allowed else { throw .tooOld }
        guard skew <= allowed else { throw .tooNew }
        let bytes = Array(body)
        let expected = secrets.map { mac(id: id, timestamp: seconds, body: bytes, key: $0.key) }
        var matched = false
        for signature in signatures.split(separator: " ") {
            let parts = signature.split(separator: ",", maxSplits: 1)
            guard parts.count == 2, parts[0] == "v1", let presented = Data(base64Encoded: String(parts[1])) else { continue }
            for mac in expected where constantTimeEquals(mac, Array(presented)) { matched = true }
        }
        guard matched else { throw .noMatchingSignature }
    }

    static func mac(id: String, timestamp: Int64, body: [UInt8], key: [UInt8]) -> [UInt8] {
        let signed = Array("\(id).\(timestamp).".utf8) + body
        return Digest.hmacSHA256(key: key, message: signed)
    }

    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}

/// A Standard Webhooks secret: `whsec_` and the base64 of the key bytes (at least 24 of them).
///
/// Make one with `echo "whsec_$(openssl rand -base64 32)"`.
package struct WebhookSecret: Sendable, Hashable {
    package static let prefix = "whsec_"
    package let key: [UInt8]

    /// Reads a secret; `nil` when it is not `whsec_` followed by base64 of 24 to 64 bytes.
    package init?(_ text: String) {
        guard text.hasPrefix(Self.prefix), let key = Data(base64Encoded: String(text.dropFirst(Self.prefix.count))), (24...64).contains(key.count)
        else { return nil }
        self.key = Array(key)
    }

    /// The secret as it is written: `whsec_<base64>`.
    package var text: String { Self.prefix + Data(key).base64EncodedString() }
}

/// Why a webhook delivery is not to be trusted.
package enum WebhookVerificationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `webhook-id`, `webhook-timestamp` or `webhook-signature` is missing.
    case missingHeaders
    case malformedTimestamp
    /// Older than the tolerance: possibly a captured request sent again.
    case tooOld
    /// Further in the future than the tolerance.
    case tooNew
    /// No `v1` signature is the one computed with any accepted secret.
    case noMatchingSignature

    package var description: String {
        switch self {
        case .missingHeaders: "webhook-id, webhook-timestamp and webhook-signature are required"
        case .malformedTimestamp: "webhook-timestamp is not a whole number of seconds"
        case .tooOld: "webhook-timestamp is older than the tolerance"
        case .tooNew: "webhook-timestamp is further in the future than the tolerance"
        case .noMatchingSignature: "no signature in webhook-signature matches"
        }
    }
}
