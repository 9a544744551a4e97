import Synchronization
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

@Suite(.timeLimit(.minutes(1)))
struct KeyedSerializerTests {
    @Test func workForOneKeyWaitsForTheWorkBeforeItAndOtherKeysDoNot() async {
        let serializer = KeyedSerializer()
        let log = Log()
        let firstStarted = Doorbell()
        let releaseFirst = Doorbell()
        let first = Task {
            await serializer.run(key: "sku-1") {
                firstStarted.ring()
                await releaseFirst.wait(upTo: .seconds(60))
                log.append("sku-1 first")
            }
        }
        await firstStarted.wait(upTo: .seconds(60))
        let second = Task { await serializer.run(key: "sku-1") { log.append("sku-1 second") } }
        // Another key runs to the end while the first piece of work for sku-1 is still held.
        await serializer.run(key: "sku-2") { log.append("sku-2") }
        #expect(log.entries == ["sku-2"])
        releaseFirst.ring()
        await first.value
        await second.value
        #expect(log.entries == ["sku-2", "sku-1 first", "sku-1 second"])
    }

    final class Log: Sendable {
        private let storage = Mutex<[String]>([])
        func append(_ entry: String) { storage.withLock { $0.append(entry) } }
        var entries: [String] { storage.withLock { $0 } }
    }
}
