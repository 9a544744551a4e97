import AMQP
import Testing

@testable import Messaging

/// A wait that a ring does not end lasts ten minutes, far past the suite's time limit: these tests
/// fail by timing out, not by a stopwatch that a busy machine could trip.
@Suite(.timeLimit(.minutes(1))) struct DoorbellTests {
    static let forever: Duration = .seconds(600)

    @Test func aRingWakesTheWaiterAtOnce() async {
        let doorbell = Doorbell()
        async let waited: Void = doorbell.wait(upTo: Self.forever)
        try? await Task.sleep(for: .milliseconds(50))
        doorbell.ring()
        await waited
    }

    @Test func aRingWithNobodyWaitingIsKeptForTheNextWait() async {
        let doorbell = Doorbell()
        doorbell.ring()
        await doorbell.wait(upTo: Self.forever)
    }

    @Test func aWaitWokenByARingLeavesNothingBehind() async {
        let doorbell = Doorbell()
        doorbell.ring()
        await doorbell.wait(upTo: .seconds(10))  // Consumes the ring; its timer is cancelled.
        let start = ContinuousClock.now
        await doorbell.wait(upTo: .milliseconds(300))  // So this one waits its full time.
        #expect(ContinuousClock.now - start >= .milliseconds(250))
    }
}

@Suite(.timeLimit(.minutes(1)))
struct DeliveryBufferTests {
    @Test func aBatchIsWhatHasArrivedUpToTheLimit() async {
        let buffer = DeliveryBuffer<Int>()
        for number in 1...5 { buffer.append(number) }
        #expect(await buffer.next(upTo: 3) == [1, 2, 3])
        #expect(await buffer.next(upTo: 3) == [4, 5])
    }

    @Test func aBatchWaitsForItsFirstDeliveryAndAFinishedBufferEndsWithAnEmptyOne() async {
        let buffer = DeliveryBuffer<Int>()
        let waiting = Task { await buffer.next(upTo: 10) }
        try? await Task.sleep(for: .milliseconds(50))
        buffer.append(7)
        #expect(await waiting.value == [7])
        buffer.append(8)
        buffer.finish()
        #expect(await buffer.next(upTo: 10) == [8])
        #expect(await buffer.next(upTo: 10).isEmpty)
    }
}

struct BatchRhythmTests {
    @Test func aQuietQueueNeverWaits() {
        var rhythm = BatchRhythm(limit: 10, linger: .milliseconds(5))
        #expect(!rhythm.shouldLinger(waiting: 1))
        rhythm.closed(1)
        #expect(!rhythm.shouldLinger(waiting: 1))
    }

    @Test func messagesPouringInMakeABatchWaitForMoreUntilItIsFull() {
        var rhythm = BatchRhythm(limit: 10, linger: .milliseconds(5))
        #expect(rhythm.shouldLinger(waiting: 2), "more than one waiting: they arrive faster than they are handled")
        rhythm.closed(3)
        #expect(rhythm.shouldLinger(waiting: 1), "the last batch held several: more are coming")
        #expect(!rhythm.shouldLinger(waiting: 10), "a full batch closes at once")
        #expect(!rhythm.shouldLinger(waiting: 0))
    }

    @Test func theRateFallingBackEndsTheWaitingAfterOneBatch() {
        var rhythm = BatchRhythm(limit: 10, linger: .milliseconds(5))
        rhythm.closed(6)
        #expect(rhythm.shouldLinger(waiting: 1))
        rhythm.closed(1)
        #expect(!rhythm.shouldLinger(waiting: 1))
    }

    @Test func noLingerMeansNoWaitingAndTheLimitIsAtLeastOne() {
        var rhythm = BatchRhythm(limit: 0, linger: .zero)
        rhythm.closed(5)
        #expect(!rhythm.shouldLinger(waiting: 3))
        #expect(rhythm.limit == 1)
    }
}

@Suite(.timeLimit(.minutes(1)))
struct DeliveryBufferLingerTests {
    /// Waiting a linger of ten minutes would time the suite out: a test passes only if the batch closed for the
    /// reason it names.
    static let forever: Duration = .seconds(600)

    @Test func aBatchThatLingersClosesAsSoonAsItIsFull() async {
        let buffer = DeliveryBuffer<Int>()
        var rhythm = BatchRhythm(limit: 4, linger: Self.forever)
        for number in 1...2 { buffer.append(number) }
        let filler = Task {
            try? await Task.sleep(for: .milliseconds(50))
            for number in 3...5 { buffer.append(number) }
        }
        #expect(await buffer.next(&rhythm) == [1, 2, 3, 4])
        await filler.value
        #expect(rhythm.last == 4)
    }

    @Test func aBatchThatLingersClosesWithWhatCameWhenTheLingerEnds() async {
        let buffer = DeliveryBuffer<Int>()
        var rhythm = BatchRhythm(limit: 100, linger: .milliseconds(30))
        for number in 1...3 { buffer.append(number) }
        #expect(await buffer.next(&rhythm) == [1, 2, 3])
    }

    @Test func aSingleDeliveryAfterASingleOneIsTakenAtOnce() async {
        let buffer = DeliveryBuffer<Int>()
        var rhythm = BatchRhythm(limit: 100, linger: Self.forever)
        buffer.append(1)
        #expect(await buffer.next(&rhythm) == [1])
        buffer.append(2)
        #expect(await buffer.next(&rhythm) == [2])
    }

    @Test func finishingEndsALinger() async {
        let buffer = DeliveryBuffer<Int>()
        var rhythm = BatchRhythm(limit: 100, linger: Self.forever)
        for number in 1...2 { buffer.append(number) }
        let finisher = Task {
            try? await Task.sleep(for: .milliseconds(50))
            buffer.finish()
        }
        #expect(await buffer.next(&rhythm) == [1, 2])
        await finisher.value
        #expect(await buffer.next(&rhythm).isEmpty)
    }
}

@Suite(.timeLimit(.minutes(1)))
struct OutboxDispatchTests {
    func handed(_ id: String) -> OutboxDispatch.Handed {
        OutboxDispatch.Handed(
            messageID: id, publication: AMQPConnection.Publication(AMQPMessage(id, properties: AMQPProperties()), exchange: "x", routingKey: id))
    }

    @Test func whatWasHandedComesOutInOrderAndStoppingDrainsIt() async {
        let dispatch = OutboxDispatch(batchSize: 2)
        dispatch.hand(["a", "b", "c"].map(handed))
        dispatch.stop()
        #expect(await dispatch.next().map(\.messageID) == ["a", "b"])
        #expect(await dispatch.next().map(\.messageID) == ["c"])
        #expect(await dispatch.next().isEmpty)
        dispatch.hand([handed("late")])
        #expect(await dispatch.next().isEmpty, "a stopped dispatch takes nothing: the row stays for the relay")
    }

    @Test func aWaitingPublisherIsWokenByWhatIsHanded() async {
        let dispatch = OutboxDispatch()
        let waiting = Task { await dispatch.next().map(\.messageID) }
        try? await Task.sleep(for: .milliseconds(50))
        dispatch.hand([handed("a")])
        #expect(await waiting.value == ["a"])
    }

    @Test func aFailureDropsWhatWaitsAndTakesNothingUntilRecovered() async {
        let dispatch = OutboxDispatch()
        dispatch.hand([handed("a")])
        dispatch.degrade()
        #expect(!dispatch.isTakingEvents && dispatch.isDegraded)
        dispatch.hand([handed("b")])
        dispatch.recover()
        #expect(dispatch.isTakingEvents)
        dispatch.hand([handed("c")])
        dispatch.stop()
        #expect(await dispatch.next().map(\.messageID) == ["c"], "the rows of a and b are the relay's")
    }

    @Test func confirmedRowsAreTakenOnceAndComeBackIfTheirTransactionDidNotCommit() {
        let dispatch = OutboxDispatch()
        #expect(!dispatch.publishedWaiting(longerThan: .zero))
        dispatch.confirmed(["a", "b"])
        #expect(dispatch.publishedWaiting(longerThan: .zero))
        let taken = dispatch.takePublished()
        #expect(taken == ["a", "b"])
        #expect(dispatch.takePublished().isEmpty)
        dispatch.giveBack(taken)
        #expect(dispatch.takePublished() == ["a", "b"])
    }
}
