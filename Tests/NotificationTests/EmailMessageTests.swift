import Contracts
import Foundation
import Notification
import Testing

@Suite struct EmailMessageTests {
    let customer = Customer(id: "c-42", email: "ada@example.com")
    /// 2026-03-03T09:05:07Z, a Tuesday.
    let date = Date(timeIntervalSince1970: 1_772_528_707)

    func notification(_ outcome: CustomerNotification.Outcome, reason: String? = nil) -> CustomerNotification {
        CustomerNotification(
            outcome: outcome, orderID: "o-1", customer: customer, currency: "EUR", totalCents: 2505, reason: reason, occurredAt: date)
    }

    @Test func aRenderedMessageHasTheHeadersOfRFC5322AndCRLFLineEndings() throws {
        let notification = notification(.cancelled, reason: "deadline exceeded")
        let text = EmailMessage.compose(notification, from: "Orderly <orders@shop.example>", date: date).rendered()

        #expect(text.hasSuffix("\r\n"))
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"), "a bare LF")
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\r"), "a bare CR")
        let parts = text.components(separatedBy: "\r\n\r\n")
        let headers = parts[0].components(separatedBy: "\r\n")
        #expect(
            headers == [
                "From: Orderly <orders@shop.example>",
                "To: ada@example.com",
                "Subject: Your order o-1 was cancelled",
                "Date: Tue, 03 Mar 2026 09:05:07 +0000",
                "Message-ID: <\(notification.id)@shop.example>",
                "MIME-Version: 1.0",
                "Content-Type: text/plain; charset=utf-8",
                "Content-Transfer-Encoding: 8bit",
            ]
        )
        let body = parts.dropFirst().joined(separator: "\r\n\r\n")
        #expect(body.contains("Your order o-1 was cancelled. Any payment taken for it is refunded in full."))
        #expect(body.contains("Total: 25.05 EUR\r\n"))
        #expect(body.contains("Reason: deadline exceeded\r\n"))
        #expect(text.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 998 })
    }

    @Test func eachOutcomeSaysWhatHappened() {
        let completed = EmailMessage.compose(notification(.completed), from: "orders@shop.example", date: date)
        #expect(completed.subject == "Your order o-1 is confirmed")
        #expect(completed.bodyLines.contains("Total: 25.05 EUR"))
        #expect(!completed.bodyLines.contains { $0.hasPrefix("Reason:") })
        let failed = EmailMessage.compose(notification(.failed, reason: "card_declined"), from: "orders@shop.example", date: date)
        #expect(failed.subject == "Your order o-1 could not be completed")
        #expect(failed.bodyLines.contains("Your order o-1 could not be completed. Nothing was charged."))
        #expect(failed.bodyLines.contains("Reason: card_declined"))
    }

    @Test func noHeaderCanBeInjectedThroughTheAddressOrTheReason() {
        var notification = notification(.failed, reason: "bad\r\nBcc: victim@example.com")
        notification.customer.email = "ada@example.com\r\nBcc: everyone@example.com"
        let text = EmailMessage.compose(notification, from: "orders@shop.example", date: date).rendered()
        #expect(!text.contains("\r\nBcc:"))
        #expect(text.contains("To: ada@example.comBcc: everyone@example.com\r\n"))
        #expect(text.contains("Reason: bad Bcc: victim@example.com\r\n"))
    }

    @Test func aNonASCIISubjectIsAnEncodedWordAndLongLinesAreWrapped() {
        var message = EmailMessage.compose(notification(.failed, reason: String(repeating: "word ", count: 60)), from: "o@x.example", date: date)
        message.subject = "Commande reçue"
        let text = message.rendered()
        #expect(text.contains("Subject: =?utf-8?B?\(Data("Commande reçue".utf8).base64EncodedString())?=\r\n"))
        #expect(text.components(separatedBy: "\r\n").allSatisfy { $0.count <= 78 })
    }

    @Test func datesAreRFC5322InUTC() {
        #expect(EmailMessage.rfc5322Date(Date(timeIntervalSince1970: 0)) == "Thu, 01 Jan 1970 00:00:00 +0000")
        #expect(EmailMessage.rfc5322Date(date) == "Tue, 03 Mar 2026 09:05:07 +0000")
    }
}

@Suite struct CustomerNotificationTests {
    @Test func theIDDependsOnlyOnTheOrderAndTheOutcome() {
        let a = CustomerNotification.id(orderID: "o-1", outcome: .completed)
        #expect(a == CustomerNotification.id(orderID: "o-1", outcome: .completed))
        #expect(a != CustomerNotification.id(orderID: "o-1", outcome: .cancelled))
        #expect(a != CustomerNotification.id(orderID: "o-2", outcome: .completed))
        #expect(UUID(uuidString: a) != nil)
        #expect(Array(a)[14] == "5")
    }

    @Test func totalsAreShownInMajorUnits() {
        func total(_ cents: Int, _ currency: String) -> String {
            CustomerNotification(
                outcome: .completed, orderID: "o", customer: Customer(id: "c", email: "c@x"), currency: currency, totalCents: cents, reason: nil,
                occurredAt: Date()
            ).formattedTotal
        }
        #expect(total(2500, "EUR") == "25.00 EUR")
        #expect(total(7, "USD") == "0.07 USD")
        #expect(total(1999, "JPY") == "1999 JPY")
    }

    @Test func onlyOrderOutcomesBecomeNotifications() {
        let payload = OrderOutcome(
            orderID: "o", status: .failed, customer: Customer(id: "c", email: "c@x"), currency: "EUR", totalCents: 1, reason: nil)
        #expect(CustomerNotification(type: "order.failed", payload: payload, occurredAt: Date())?.outcome == .failed)
        #expect(CustomerNotification(type: "order.placed", payload: payload, occurredAt: Date()) == nil)
    }
}
