import Contracts
import Foundation
import Notification
import Testing

@Suite struct WebhookSignatureTests {
    @Test func theSignatureIsTheHexHMACSHA256OfTheBody() {
        // RFC 4231, test case 2.
        let signature = WebhookSignature.sign(body: Array("what do ya want for nothing?".utf8), secret: "Jefe")
        #expect(signature == "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func aReceiverAcceptsOnlyTheRightBodyAndSecret() {
        let body = Array(#"{"order_id":"o-1"}"#.utf8)
        let signature = WebhookSignature.sign(body: body, secret: "s3cret")
        #expect(WebhookSignature.isValid(signature, body: body, secret: "s3cret"))
        #expect(!WebhookSignature.isValid(signature, body: Array(#"{"order_id":"o-2"}"#.utf8), secret: "s3cret"))
        #expect(!WebhookSignature.isValid(signature, body: body, secret: "other"))
        #expect(!WebhookSignature.isValid("sha256=zz", body: body, secret: "s3cret"))
        #expect(!WebhookSignature.isValid(String(signature.dropFirst(7)), body: body, secret: "s3cret"))
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
