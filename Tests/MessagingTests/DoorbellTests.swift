import Testing

@testable import Messaging

@Suite struct DoorbellTests {
    @Test func aRingWakesTheWaiterAtOnce() async {
        let doorbell = Doorbell()
        let start = ContinuousClock.now
        async let waited: Void = doorbell.wait(upTo: .seconds(10))
        try? await Task.sleep(for: .milliseconds(50))
        doorbell.ring()
        await waited
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test func aRingWithNobodyWaitingIsKeptForTheNextWait() async {
        let doorbell = Doorbell()
        doorbell.ring()
        let start = ContinuousClock.now
        await doorbell.wait(upTo: .seconds(10))
        #expect(ContinuousClock.now - start < .seconds(5))
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
