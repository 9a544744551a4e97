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

@Suite struct KeyedSerializerTests {
    @Test func workForOneKeyRunsInArrivalOrderAndOtherKeysRunAlongside() async {
        let serializer = KeyedSerializer()
        let log = Log()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await serializer.run(key: "sku-1") {
                    try? await Task.sleep(for: .milliseconds(200))  // Slow first piece of work…
                    log.append("sku-1 first")
                }
            }
            try? await Task.sleep(for: .milliseconds(50))
            group.addTask { await serializer.run(key: "sku-1") { log.append("sku-1 second") } }  // …still goes first.
            group.addTask { await serializer.run(key: "sku-2") { log.append("sku-2") } }  // Another key does not wait.
        }
        #expect(log.entries == ["sku-2", "sku-1 first", "sku-1 second"])
    }

    final class Log: Sendable {
        private let storage = Mutex<[String]>([])
        func append(_ entry: String) { storage.withLock { $0.append(entry) } }
        var entries: [String] { storage.withLock { $0 } }
    }
}
