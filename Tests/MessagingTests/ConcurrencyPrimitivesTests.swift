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
