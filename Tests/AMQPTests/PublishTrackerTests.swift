import Testing

@testable import AMQP

@Suite struct PublishTrackerTests {
    /// Records what each publish was settled with.
    final class Outcomes: @unchecked Sendable {
        var results: [String: Result<Void, AMQPError>] = [:]
    }

    func publish(_ id: String, _ outcomes: Outcomes, deadline: ContinuousClock.Instant = .now + .seconds(60)) -> PendingPublish {
        PendingPublish(
            message: AMQPMessage(id, properties: AMQPProperties(messageID: id)), exchange: "x", routingKey: "k", mandatory: true,
            deadline: deadline, completion: { outcomes.results[id] = $0 }
        )
    }

    @Test func theWindowBoundsUnconfirmedMessages() {
        let outcomes = Outcomes()
        var tracker = PublishTracker(window: 2)
        for id in ["a", "b", "c"] { tracker.enqueue(publish(id, outcomes)) }
        #expect(tracker.next()?.message.properties.messageID == "a")
        #expect(tracker.next()?.message.properties.messageID == "b")
        #expect(tracker.next() == nil)
        for settlement in tracker.settle(tag: 1, multiple: false) { settlement() }
        #expect(tracker.next()?.message.properties.messageID == "c")
    }

    @Test func aMultipleAckSettlesEverythingUpToItsTag() {
        let outcomes = Outcomes()
        var tracker = PublishTracker(window: 10)
        for id in ["a", "b", "c"] { tracker.enqueue(publish(id, outcomes)) }
        while tracker.next() != nil {}
        for settlement in tracker.settle(tag: 2, multiple: true) { settlement() }
        #expect(outcomes.results.keys.sorted() == ["a", "b"])
        #expect(tracker.unconfirmedCount == 1)
    }

    @Test func aReturnedMessageFailsWhenItsConfirmArrives() throws {
        let outcomes = Outcomes()
        var tracker = PublishTracker(window: 10)
        for id in ["a", "b"] { tracker.enqueue(publish(id, outcomes)) }
        while tracker.next() != nil {}
        tracker.markReturned(exchange: "x", routingKey: "k", messageID: "b", error: AMQPError(.unroutable, "NO_ROUTE"))
        for settlement in tracker.settle(tag: 2, multiple: true) { settlement() }
        #expect(throws: Never.self) { try outcomes.results["a"]!.get() }
        #expect(throws: AMQPError.self) { try outcomes.results["b"]!.get() }
    }

    @Test func aLostConnectionRequeuesUnconfirmedMessagesInOrder() {
        let outcomes = Outcomes()
        var tracker = PublishTracker(window: 2)
        for id in ["a", "b", "c"] { tracker.enqueue(publish(id, outcomes)) }
        _ = tracker.next()
        _ = tracker.next()
        tracker.connectionLost()
        #expect(outcomes.results.isEmpty)
        let resent = (0..<3).compactMap { _ -> String? in
            defer { for settlement in tracker.settle(tag: .max, multiple: true) { settlement() } }
            return tracker.next()?.message.properties.messageID
        }
        #expect(resent == ["a", "b", "c"])
        #expect(outcomes.results.count == 3)
    }

    @Test func anExpiredPublishIsSettledOnceAndNotResent() {
        let outcomes = Outcomes()
        var tracker = PublishTracker(window: 10)
        let now = ContinuousClock.now
        tracker.enqueue(publish("sent", outcomes, deadline: now))
        _ = tracker.next()
        tracker.enqueue(publish("waiting", outcomes, deadline: now))
        tracker.enqueue(publish("later", outcomes, deadline: now + .seconds(60)))
        let expired = tracker.expire(now: now) { _ in AMQPError(.timeout, "late") }
        for settlement in expired { settlement() }
        #expect(expired.count == 2)
        tracker.connectionLost()
        #expect(tracker.next()?.message.properties.messageID == "later")
        #expect(tracker.settle(tag: 1, multiple: true).count == 1)
    }

    @Test func backoffGrowsAndStaysWithinItsBounds() {
        let backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(2))
        for attempt in 0..<20 {
            let delay = backoff.delay(attempt: attempt)
            let ceiling = min(Duration.seconds(2), .milliseconds(100) * (1 << attempt))
            #expect(delay >= ceiling / 2 && delay <= ceiling)
        }
    }

    @Test func configurationReadsAnAMQPURL() throws {
        let configuration = try AMQPConfiguration(url: "amqp://app:s%40cret@broker.local:5673/orders%2Fprod?heartbeat=5")
        #expect(configuration.host == "broker.local")
        #expect(configuration.port == 5673)
        #expect(configuration.user == "app")
        #expect(configuration.password == "s@cret")
        #expect(configuration.virtualHost == "orders/prod")
        #expect(configuration.heartbeat == .seconds(5))
        #expect(try AMQPConfiguration(url: "amqp://localhost").virtualHost == "/")
        #expect(throws: AMQPError.self) { try AMQPConfiguration(url: "http://localhost") }
    }

    @Test func aShortTimeoutBehindALongOneExpiresOnTime() {
        let outcomes = Outcomes()
        let now = ContinuousClock.now
        var tracker = PublishTracker(window: 1)
        tracker.enqueue(publish("long-sent", outcomes, deadline: now + .seconds(30)))
        tracker.enqueue(publish("long-waiting", outcomes, deadline: now + .seconds(30)))
        #expect(tracker.next()?.message.properties.messageID == "long-sent")
        tracker.enqueue(publish("short", outcomes, deadline: now + .seconds(10)))
        #expect(tracker.earliestDeadline == now + .seconds(10))
        let early = tracker.expire(now: now + .seconds(5)) { _ in AMQPError(.timeout, "late") }
        #expect(early.isEmpty)
        let expired = tracker.expire(now: now + .seconds(10)) { _ in AMQPError(.timeout, "late") }
        for settlement in expired { settlement() }
        #expect(outcomes.results.keys.sorted() == ["short"])
        #expect(tracker.waitingCount == 1 && tracker.unconfirmedCount == 1)
        #expect(tracker.earliestDeadline == now + .seconds(30))
    }
}
