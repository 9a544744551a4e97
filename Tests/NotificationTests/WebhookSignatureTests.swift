import Contracts
import Foundation
import Notification
import Testing

@Suite struct WebhookSignatureTests {
    /// The example of the Standard Webhooks test suites: the same secret, id, timestamp and body give this signature in every library.
    static let secret = WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")!
    static let id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    static let timestamp: Int64 = 1_614_265_330
    static let body = Array(#"{"test": 2432232314}"#.utf8)
    static let signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    static var sentAt: Date { Date(timeIntervalSince1970: TimeInterval(timestamp)) }

    @Test func theSignatureIsTheStandardWebhooksOne() {
        #expect(WebhookSignature.sign(id: Self.id, timestamp: Self.timestamp, body: Self.body, secret: Self.secret) == Self.signature)
        let headers = WebhookSignature.headers(id: Self.id, date: Self.sentAt, body: Self.body, secret: Self.secret)
        #expect(headers.map(\.name) == ["webhook-id", "webhook-timestamp", "webhook-signature"])
        #expect(headers.map(\.value) == [Self.id, "1614265330", Self.signature])
    }

    @Test func aReceiverAcceptsTheDeliveryWithinTheTolerance() throws {
        try WebhookSignature.verify(
            id: Self.id, timestamp: "\(Self.timestamp)", signatures: Self.signature, body: Self.body, secrets: [Self.secret],
            now: Self.sentAt.addingTimeInterval(299))
    }

    @Test func aStaleOrFutureDeliveryIsRefusedEvenWithItsSignature() {
        #expect(throws: WebhookVerificationError.tooOld) {
            try WebhookSignature.verify(
                id: Self.id, timestamp: "\(Self.timestamp)", signatures: Self.signature, body: Self.body, secrets: [Self.secret],
                now: Self.sentAt.addingTimeInterval(301))
        }
        #expect(throws: WebhookVerificationError.tooNew) {
            try WebhookSignature.verify(
                id: Self.id, timestamp: "\(Self.timestamp)", signatures: Self.signature, body: Self.body, secrets: [Self.secret],
                now: Self.sentAt.addingTimeInterval(-301))
        }
    }

    @Test func anyChangeOfIdTimestampBodyOrSecretBreaksTheSignature() {
        let now = Self.sentAt
        func verify(id: String = Self.id, timestamp: Int64 = Self.timestamp, body: [UInt8] = Self.body, secret: WebhookSecret = Self.secret) throws {
            try WebhookSignature.verify(id: id, timestamp: "\(timestamp)", signatures: Self.signature, body: body, secrets: [secret], now: now)
        }
        #expect(throws: WebhookVerificationError.noMatchingSignature) { try verify(id: "msg_other") }
        #expect(throws: WebhookVerificationError.noMatchingSignature) { try verify(timestamp: Self.timestamp + 1) }
        #expect(throws: WebhookVerificationError.noMatchingSignature) { try verify(body: Array(#"{"test": 2432232315}"#.utf8)) }
        #expect(throws: WebhookVerificationError.noMatchingSignature) {
            try verify(secret: WebhookSecret("whsec_" + Data(repeating: 7, count: 32).base64EncodedString())!)
        }
    }

    @Test func anyOfSeveralSignaturesOrSecretsMayMatchWhileASecretIsRotated() throws {
        let old = WebhookSecret("whsec_" + Data(repeating: 1, count: 32).base64EncodedString())!
        let both = "v1,bm90IHRoaXMgb25l " + Self.signature + " v2,ignored"
        try WebhookSignature.verify(
            id: Self.id, timestamp: "\(Self.timestamp)", signatures: both, body: Self.body, secrets: [old, Self.secret], now: Self.sentAt)
    }

    @Test func missingOrMalformedHeadersAreRefused() {
        #expect(throws: WebhookVerificationError.missingHeaders) {
            try WebhookSignature.verify(id: nil, timestamp: "1", signatures: Self.signature, body: Self.body, secrets: [Self.secret])
        }
        #expect(throws: WebhookVerificationError.malformedTimestamp) {
            try WebhookSignature.verify(id: Self.id, timestamp: "soon", signatures: Self.signature, body: Self.body, secrets: [Self.secret])
        }
    }

    @Test func aSecretIsWhsecAndBase64() {
        #expect(WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?.key.count == 24)
        #expect(WebhookSecret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == nil)
        #expect(WebhookSecret("whsec_not base64!") == nil)
        #expect(WebhookSecret("whsec_" + Data(repeating: 0, count: 8).base64EncodedString()) == nil, "too short to be a key")
        #expect(Self.secret.text == "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    }

    @Test func thePayloadIsSnakeCaseAndStable() throws {
        let notification = CustomerNotification(
            outcome: .completed, orderID: "o-1", customer: Customer(id: "c-42", email: "ada@example.com"), currency: "EUR", totalCents: 2500,
            reason: nil, occurredAt: Date(timeIntervalSince1970: 1_772_528_707)
        )
        let body = try WebhookPayload(notification).encoded()
        #expect(body == (try WebhookPayload(notification).encoded()))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        #expect(json["notification_id"] as? String == notification.id)
        #expect(json["order_id"] as? String == "o-1")
        #expect(json["outcome"] as? String == "order.completed")
        #expect(json["total_cents"] as? Int == 2500)
        #expect(json["occurred_at"] as? String == "2026-03-03T09:05:07.000Z")
    }
}
