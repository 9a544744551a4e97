import AMQP
import Contracts
import Foundation
import Messaging
import Notification
import Telemetry
import TestSupport
import Testing

/// notification-service against the real broker and database, each test on its own schema, queues and mail folder.
@Suite(.timeLimit(.minutes(1)))
struct NotificationIntegrationTests {
    static let secret = WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")!
    /// The receiver answers at once; a limit a busy machine could reach would add an attempt to those the tests count.
    static let webhookTimeout: Duration = .seconds(10)

    @Test func anOutcomeBecomesOneMailFileAndOneNotificationSent() async throws {
        let harness = try await NotificationHarness.make()
        let published = try await harness.running(withRelay: true) {
            try await harness.publishOutcome(.completed, orderID: "o-1")
            return try await harness.connection.consume(queue: harness.probe).collect(1, within: .seconds(10))
        }
        let id = CustomerNotification.id(orderID: "o-1", outcome: .completed)
        let files = try harness.mailFiles()
        #expect(files.map(\.lastPathComponent) == ["\(id).eml"])
        let mail = try String(contentsOf: try #require(files.first), encoding: .utf8)
        #expect(mail.contains("To: ada@example.com\r\n"))
        #expect(mail.contains("Subject: Your order o-1 is confirmed\r\n"))
        #expect(mail.contains("Total: 25.00 EUR\r\n"))

        let event = try CloudEvent(delivery: try #require(published.first))
        #expect(event.type == "notification.sent")
        #expect(event.subject == "o-1")
        #expect(event.source == "/orderly/notification-service")
        #expect(event.traceparent.flatMap { TraceParent($0) }?.traceIDText == TraceParent(NotificationHarness.traceparent)?.traceIDText)
        #expect(event.traceparent != NotificationHarness.traceparent)
        #expect(
            try event.decodeData(as: NotificationOutcome.self)
                == NotificationOutcome(orderID: "o-1", notificationID: id, outcome: "order.completed", channel: "email")
        )
        let records = try await harness.store.notifications(orderID: "o-1", on: harness.pool)
        #expect(records.map(\.status) == ["sent"])
        #expect(records.first?.channelResults == [ChannelResult(channel: "email", sent: true)])
        try await harness.tearDown()
    }

    @Test func theSameOutcomeTwiceUnderDifferentEventIDsNotifiesOnce() async throws {
        let harness = try await NotificationHarness.make()
        try await harness.running {
            try await harness.publishOutcome(.failed, orderID: "o-7", id: "first", reason: "card_declined")
            try await harness.publishOutcome(.failed, orderID: "o-7", id: "second", reason: "card_declined")
            try await harness.publishOutcome(.failed, orderID: "o-7", id: "second", reason: "card_declined")  // And a redelivery.
            try await eventually { try await harness.handledCount() == 2 }
            try await eventually { try await harness.connection.status(ofQueue: harness.queues.workQueue).messageCount == 0 }
            try await Task.sleep(for: .milliseconds(300))
        }
        #expect(try await harness.store.notifications(orderID: "o-7", on: harness.pool).count == 1)
        #expect(try harness.mailFiles().count == 1)
        #expect(try await harness.emitted().map(\.type) == ["notification.sent"])
        try await harness.tearDown()
    }

    @Test func theWebhookReceivesTheBodyWithAValidSignature() async throws {
        let receiver = WebhookReceiver()
        try await receiver.serving { url in
            let harness = try await NotificationHarness.make(webhook: .init(url: url, secret: Self.secret.text, timeout: Self.webhookTimeout))
            try await harness.running {
                try await harness.publishOutcome(.cancelled, orderID: "o-9", reason: "deadline exceeded")
                try await eventually { try await harness.emitted().count == 1 }
            }
            let request = try #require(receiver.requests.first)
            #expect(receiver.requests.count == 1)
            // Verified as a Standard Webhooks receiver does: headers, tolerance, signature.
            try WebhookSignature.verify(
                id: request.id, timestamp: request.timestamp, signatures: request.signature, body: request.body, secrets: [Self.secret])
            #expect(request.id == CustomerNotification.id(orderID: "o-9", outcome: .cancelled))
            #expect(request.contentType == "application/json")
            let id = CustomerNotification.id(orderID: "o-9", outcome: .cancelled)
            #expect(request.notificationID == id)
            let payload = try JSONDecoder().decode(WebhookPayload.self, from: Data(request.body))
            #expect(payload.orderID == "o-9" && payload.outcome == "order.cancelled" && payload.reason == "deadline exceeded")
            #expect(payload.customer.email == "ada@example.com" && payload.totalCents == 2500 && payload.notificationID == id)
            let sent = try await harness.emitted().first?.decodeData(as: NotificationOutcome.self)
            #expect(sent?.channel == "email,webhook")
            try await harness.tearDown()
        }
    }

    @Test func aWebhookFailingTwiceIsRetriedThroughTheTiersAndNotifiesOnce() async throws {
        let receiver = WebhookReceiver(failures: 2)
        try await receiver.serving { url in
            let harness = try await NotificationHarness.make(webhook: .init(url: url, secret: Self.secret.text, timeout: Self.webhookTimeout))
            try await harness.running {
                try await harness.publishOutcome(.completed, orderID: "o-5")
                try await eventually { try await harness.emitted().count == 1 }
            }
            let id = CustomerNotification.id(orderID: "o-5", outcome: .completed)
            #expect(receiver.requests.count == 3)
            #expect(receiver.requests.allSatisfy { $0.notificationID == id })
            #expect(Set(receiver.requests.map(\.body)).count == 1, "every retry sends the same body")
            let records = try await harness.store.notifications(orderID: "o-5", on: harness.pool)
            #expect(records.count == 1)
            #expect(records.first?.status == "sent")
            #expect(records.first?.channelResults.map(\.channel) == ["email", "webhook"])
            #expect(try harness.mailFiles().count == 1, "the retries overwrote the one mail")
            #expect(try await harness.emitted().map(\.type) == ["notification.sent"])
            #expect(try await harness.connection.status(ofQueue: harness.queues.parkingQueue).messageCount == 0)
            try await harness.tearDown()
        }
    }

    @Test func aWebhookThatNeverRecoversEndsInARecordedFailureNotAParkedMessage() async throws {
        let receiver = WebhookReceiver(failures: .max)
        try await receiver.serving { url in
            let harness = try await NotificationHarness.make(
                webhook: .init(url: url, secret: Self.secret.text, timeout: Self.webhookTimeout), tiers: [.milliseconds(100), .milliseconds(200)]
            )
            try await harness.running {
                try await harness.publishOutcome(.failed, orderID: "o-3", reason: "card_declined")
                try await eventually { try await harness.emitted().count == 1 }
            }
            #expect(receiver.requests.count == 3)
            let records = try await harness.store.notifications(orderID: "o-3", on: harness.pool)
            #expect(records.map(\.status) == ["failed"])
            #expect(records.first?.channelResults.map(\.sent) == [true, false])
            let failed = try #require(try await harness.emitted().first)
            #expect(failed.type == "notification.failed")
            let outcome = try failed.decodeData(as: NotificationOutcome.self)
            #expect(outcome.channel == "webhook")
            #expect(outcome.reason?.contains("answered 500") == true)
            #expect(try await harness.connection.status(ofQueue: harness.queues.parkingQueue).messageCount == 0)
            try await harness.tearDown()
        }
    }
}
