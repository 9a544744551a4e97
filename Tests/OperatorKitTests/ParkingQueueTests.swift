import AMQP
import Contracts
import Foundation
import Messaging
import MessagingConventions
import OperatorKit
import TestSupport
import Testing

/// `orderly dlq show`, `replay` and `purge` on the real broker: what is shown stays, what is replayed
/// goes back to work with its history, what is purged is gone and nothing else.
@Suite(.timeLimit(.minutes(1)))
struct ParkingQueueTests {
    @Test func theDetailCarriesEveryHeaderAndTheBodyAsJSONAndLeavesTheMessagesParked() async throws {
        try await ParkedQueueFixture.with { fixture in
            try await fixture.park(id: "a", reason: "bad")
            try await fixture.park(id: "b")
            let (count, messages) = try await fixture.parkingQueue.details(limit: 10, on: fixture.connection)
            #expect(count == 2)
            let message = try #require(messages.first { $0.summary.messageID == "a" })
            #expect(message.summary.reason == "bad" && message.summary.failureKind == "permanent")
            let json = String(decoding: try JSONEncoder().encode(message), as: UTF8.self)
            for expected in [
                #""x-orderly-parked-reason":"bad""#, #""x-death":[{"#, #""message_id":"a""#, #""json":{"#, #""order_id":"o-1""#,
                #""content_type":"application\/cloudevents+json""#,
            ] {
                #expect(json.contains(expected), "\(expected) in \(json)")
            }
            #expect(try await fixture.parkedCount() == 2)
            #expect(try await fixture.parkingQueue.details(limit: 10, on: fixture.connection).count == 2)
        }
    }

    @Test func aReplayedMessageKeepsItsHistoryAndTheBrokersXDeath() async throws {
        try await ParkedQueueFixture.with { fixture in
            try await fixture.park(id: "a", reason: "stock would go negative", attempt: 1)
            try await fixture.park(id: "b")
            #expect(try await fixture.parkingQueue.replay(ids: ["a"], limit: 10, on: fixture.connection) == ["a"])
            let copy = try #require(try await fixture.workQueueMessages(1).first)
            let headers = copy.properties.headers
            #expect(copy.properties.messageID == "a")
            #expect(headers[MessageHeaders.parkedReason]?.stringValue == "stock would go negative")
            #expect(headers[MessageHeaders.originalExchange]?.stringValue == "orderly.orders")
            #expect(headers[MessageHeaders.attempts] == nil && headers[MessageHeaders.previousAttempts]?.intValue == 1)
            guard case .array(let deaths)? = headers["x-death"], case .table(let death)? = deaths.first else {
                Issue.record("x-death lost: \(headers)")
                return
            }
            #expect(death["queue"]?.stringValue == fixture.queues.retryQueue(tier: 0))
            #expect(try await fixture.parkingQueue.details(limit: 10, on: fixture.connection).messages.map(\.summary.messageID) == ["b"])
        }
    }

    @Test func purgingOneMessageRemovesOnlyItAndPurgingAllRemovesTheRest() async throws {
        try await ParkedQueueFixture.with { fixture in
            for id in ["a", "b", "c"] { try await fixture.park(id: id) }
            let one = try await fixture.parkingQueue.purge(ids: ["b"], on: fixture.connection)
            #expect(one.count == 1 && one.removed.map(\.messageID) == ["b"])
            let left = try await fixture.parkingQueue.details(limit: 10, on: fixture.connection)
            #expect(Set(left.messages.map(\.summary.messageID)) == ["a", "c"])
            #expect(try await fixture.parkingQueue.purge(ids: ["nope"], on: fixture.connection).count == 0)
            #expect(try await fixture.parkingQueue.purge(ids: nil, on: fixture.connection).count == 2)
            #expect(try await fixture.parkedCount() == 0)
            #expect(try await fixture.workQueueMessages(1, within: .milliseconds(300)).isEmpty)
        }
    }

    @Test func aParkingQueueThatDoesNotExistIsNotFound() async throws {
        let connection = try await AMQPConnection.forTesting("operator-tests")
        let queues = ServiceQueues(service: TestEnvironment.uniqueName("absent"), subscriptions: [])
        await #expect(throws: AMQPError.self) { _ = try await ParkingQueue(queues: queues).details(limit: 1, on: connection) }
        await connection.close()
    }
}
