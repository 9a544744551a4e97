import MessagingConventions
import Testing
import Timing

@Suite struct MessagingConventionsTests {
    let policy = RetryPolicy(tiers: [.seconds(1), .seconds(5), .seconds(30)])

    @Test func transientFailuresClimbTheTiersThenPark() {
        #expect(policy.decide(attempt: 1, kind: .transient, reason: "503") == .retry(tier: 0))
        #expect(policy.decide(attempt: 3, kind: .transient, reason: "503") == .retry(tier: 2))
        #expect(policy.decide(attempt: 4, kind: .transient, reason: "503") == .park(reason: "gave up after 4 attempts: 503"))
    }

    @Test func permanentFailuresParkAtOnce() {
        #expect(policy.decide(attempt: 1, kind: .permanent, reason: "card declined") == .park(reason: "card declined"))
    }

    @Test func aServiceNamesItsQueuesAfterItselfAndItsTiers() {
        let queues = ServiceQueues(service: "payment", subscriptions: [], retryPolicy: policy)
        #expect(queues.queueNames == ["payment", "payment.dead", "payment.retry.1s", "payment.retry.5s", "payment.retry.30s"])
        #expect(queues.retryQueue(tier: 2) == "payment.retry.30s")
    }

    @Test(arguments: [
        (Duration.milliseconds(500), "500ms", Int64(500)), (.seconds(5), "5s", 5000), (.seconds(120), "2m", 120_000),
        (.seconds(7200), "2h", 7_200_000),
    ])
    func aTierIsLabelledInItsLargestWholeUnit(delay: Duration, label: String, milliseconds: Int64) {
        #expect(delay.label == label)
        #expect(delay.milliseconds == milliseconds)
    }
}
