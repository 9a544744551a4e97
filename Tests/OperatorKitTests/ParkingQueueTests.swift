import AMQP
import Foundation
import Messaging
import OperatorKit
import TestSupport
import Testing

/// `orderly dlq` on the real broker: what is listed stays, what is replayed goes back to work with its history.
@Suite(.timeLimit(.minutes(1)))
struct ParkingQueueTests {
    @Test func listingSummarisesEveryParkedMessageAndLeavesThemAllParked() async throws {
        try await ParkedQueueFixture.with { fixture in
            try await fixture.park(id: "a", reason: "unknown event type 'x'", attempt: 1)
            try await fixture.park(id: "b", type: "payment.failed", reason: "retries exhausted", attempt: 6)
            try await fixture.park(id: "c")

            for _ in 1...3 {
                let listing = try await fixture.parkingQueue.list()
                #expect(listing.count == 3)
                #expect(Set(listing.messages.map(\.messageID)) == ["a", "b", "c"])
                let b = try #require(listing.messages.first { $0.messageID == "b" })
                #expect(b.type == "payment.failed")
                #expect(b.reason == "retries exhausted")
                #expect(b.attempts == 6)
                #expect(b.failureKind == "permanent")
                #expect(b.parkedAt != nil)
                #expect(b.replays == 0)
                try await eventually { try await fixture.parkedCount() == 3 }
            }
            let limited = try await fixture.parkingQueue.list(limit: 1)
            #expect(limited.count == 3 && limited.messages.count == 1)
            try await eventually { try await fixture.parkedCount() == 3 }
        }
    }

    @Test func theDetailCarriesEveryHeaderAndTheBodyAsJSON() async throws {
        try await ParkedQueueFixture.with { fixture in
            try await fixture.park(id: "a", reason: "bad")
            let message = try #require(try await fixture.parkingQueue.list().messages.first)
            let json = String(decoding: try JSONEncoder().encode(message.detail), as: UTF8.self)
            for expected in [
                #""x-orderly-parked-reason":"bad""#, #""x-death":[{"#, #""message_id":"a""#, #""json":{"#, #""order_id":"o-1""#,
                #""content_type":"application\/cloudevents+json""#,
            ] {
                #expect(json.contains(expected), "\(expected) in \(json)")
            }
        }
    }

    @Test func replayingOneMessageSendsItBackWithItsHistoryAndLeavesTheOthersParked() async throws {
        try await ParkedQueueFixture.with { fixture in
            try await fixture.park(id: "a", reason: "stock would go negative", attempt: 1)
            try await fixture.park(id: "b")

            let replayed = try await fixture.parkingQueue.replay(.messageID("a"))
            #expect(replayed.map(\.messageID) == ["a"])
            let delivered = try await fixture.workQueueMessages(1)
            let copy = try #require(delivered.first)
            #expect(copy.properties.messageID == "a")
            #expect(copy.properties.type == "order.placed")
            #expect(copy.body == replayed[0].body)
            let headers = copy.properties.headers
            #expect(headers[MessageHeaders.parkedReason]?.stringValue == "stock would go negative")
            #expect(headers[MessageHeaders.attempts] == nil)
            #expect(headers[ReplayHeaders.attemptsBeforeReplay]?.intValue == 1)
            #expect(headers[MessageHeaders.failureKind]?.stringValue == "permanent")
            #expect(headers[MessageHeaders.originalExchange]?.stringValue == "orderly.orders")
            #expect(headers[ReplayHeaders.replays]?.intValue == 1)
            #expect(headers[ReplayHeaders.replayedAt] != nil)
            guard case .array(let deaths)? = headers["x-death"], case .table(let death)? = deaths.first else {
                Issue.record("x-death lost: \(headers)")
                return
            }
            #expect(death["queue"]?.stringValue == fixture.queues.retryQueue(tier: 0))

            let left = try await fixture.parkingQueue.list()
            #expect(left.messages.map(\.messageID) == ["b"])
        }
    }

    @Test func aMessageReplayedAndParkedAgainCountsItsReplays() async throws {
        try await ParkedQueueFixture.with { fixture in
            try await fixture.park(id: "a")
            _ = try await fixture.parkingQueue.replay(.all)
            let copy = try #require(try await fixture.workQueueMessages(1).first)
            try await fixture.connection.publish(
                AMQPMessage(body: copy.body, properties: copy.properties), exchange: "", routingKey: fixture.queues.parkingQueue)
            #expect(try await fixture.parkingQueue.list().messages.first?.replays == 1)
            _ = try await fixture.parkingQueue.replay(.all)
            #expect(try await fixture.workQueueMessages(1).first?.properties.headers[ReplayHeaders.replays]?.intValue == 2)
        }
    }

    @Test func replayingAllEmptiesTheParkingQueueIntoTheWorkQueue() async throws {
        try await ParkedQueueFixture.with { fixture in
            for id in ["a", "b", "c"] { try await fixture.park(id: id) }
            #expect(try await fixture.parkingQueue.replay(.all).count == 3)
            #expect(Set(try await fixture.workQueueMessages(3).map(\.properties.messageID)) == ["a", "b", "c"])
            try await eventually { try await fixture.parkedCount() == 0 }
            #expect(try await fixture.parkingQueue.replay(.messageID("a")).isEmpty)
        }
    }

    @Test func purgingOneMessageRemovesOnlyItAndPurgingAllRemovesTheRest() async throws {
        try await ParkedQueueFixture.with { fixture in
            for id in ["a", "b", "c"] { try await fixture.park(id: id) }
            let one = try await fixture.parkingQueue.purge(.messageID("b"))
            #expect(one.count == 1 && one.messages.map(\.messageID) == ["b"])
            #expect(Set(try await fixture.parkingQueue.list().messages.map(\.messageID)) == ["a", "c"])
            #expect(try await fixture.parkingQueue.purge(.all).count == 2)
            #expect(try await fixture.parkingQueue.list().count == 0)
            #expect(try await fixture.workQueueMessages(1, within: .milliseconds(300)).isEmpty)
        }
    }

    @Test func aParkingQueueThatDoesNotExistIsNotFound() async throws {
        let connection = try await AMQPConnection.forTesting("operator-tests")
        let queues = ServiceQueues(service: TestEnvironment.uniqueName("absent"), subscriptions: [])
        await #expect(throws: AMQPError.self) { _ = try await ParkingQueue(queues, on: connection).list() }
        await connection.close()
    }
}
