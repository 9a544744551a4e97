import Testing
import Timing

@Suite struct DurationTests {
    @Test func aDurationReadsInEveryUnitTruncatedToWholeOnes() {
        let duration = Duration.seconds(2) + .nanoseconds(1_500_999)
        #expect(duration.nanoseconds == 2_001_500_999)
        #expect(duration.microseconds == 2_001_500)
        #expect(duration.milliseconds == 2001)
        #expect(abs(duration.seconds - 2.001500999) < 1e-12)
    }
}

@Suite struct ThrottleTests {
    let start = ContinuousClock.now

    @Test func theFirstReportIsToldAndRepeatsWaitForTheInterval() {
        var throttle = Throttle(every: .seconds(60))
        let told = [0, 59, 60].map { throttle.allows(at: start + .seconds($0)) }
        #expect(told == [true, false, true])
    }

    @Test func aNewCauseIsToldAtOnce() {
        var throttle = Throttle(every: .seconds(60))
        let told = ["connectionFailed", "connectionFailed", "refused", "connectionFailed"].enumerated().map { second, cause in
            throttle.allows(cause: cause, at: start + .seconds(second))
        }
        #expect(told == [true, false, true, true])
    }

    @Test func aThrottleStartedAtAnInstantWaitsOneIntervalFromIt() {
        var throttle = Throttle(every: .seconds(15), since: start)
        let told = [14, 15].map { throttle.allows(at: start + .seconds($0)) }
        #expect(told == [false, true])
    }

    @Test func aResetTellsTheNextReportAtOnce() {
        var throttle = Throttle(every: .seconds(60))
        _ = throttle.allows(at: start)
        throttle.reset()
        let told = throttle.allows(at: start + .seconds(1))
        #expect(told)
    }
}
