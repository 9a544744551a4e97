import Supervision
import Testing

/// The rules a supervisor restarts its child by, without a process: times are offsets the test picks.
struct RestartPolicyTests {
    static let policy = {
        var policy = RestartPolicy()
        policy.limit = 3
        policy.window = .seconds(10)
        policy.firstDelay = .seconds(1)
        policy.maxDelay = .seconds(4)
        policy.reset = .seconds(5)
        return policy
    }()

    @Test func delaysDoubleUpToTheMaximum() {
        var policy = Self.policy
        policy.limit = 100
        var history = RestartHistory(policy: policy)
        var delays: [Duration] = []
        for attempt in 0..<5 {
            guard case .restart(let delay) = history.childExited(status: .exited(1), ranFor: .zero, at: .seconds(attempt)) else {
                Issue.record("gave up at attempt \(attempt)")
                return
            }
            delays.append(delay)
            history.restarted()
        }
        #expect(delays == [.seconds(1), .seconds(2), .seconds(4), .seconds(4), .seconds(4)])
        #expect(history.restarts == 5)
    }

    @Test func oneRestartPastTheLimitWithinTheWindowGivesUp() {
        var history = RestartHistory(policy: Self.policy)
        for second in 0..<3 {
            #expect(history.childExited(status: .exited(1), ranFor: .zero, at: .seconds(second)) != .giveUpAfterTooManyRestarts)
            history.restarted()
        }
        #expect(history.childExited(status: .exited(1), ranFor: .zero, at: .seconds(3)) == .giveUpAfterTooManyRestarts)
        #expect(history.recentRestarts == 3)
        #expect(history.recentSpan == .seconds(3))
    }

    @Test func exitsOlderThanTheWindowNoLongerCount() {
        var history = RestartHistory(policy: Self.policy)
        for second in [0, 4, 8, 12, 16, 20] {
            #expect(history.childExited(status: .exited(1), ranFor: .zero, at: .seconds(second)) != .giveUpAfterTooManyRestarts)
            history.restarted()
        }
        #expect(history.recentRestarts == 2, "the exits at 12, 16 and 20 s are within 10 s of the last")
    }

    @Test func aRunLongerThanTheResetStartsTheBackoffAfresh() {
        var history = RestartHistory(policy: Self.policy)
        _ = history.childExited(status: .exited(1), ranFor: .zero, at: .zero)
        history.restarted()
        #expect(history.childExited(status: .exited(1), ranFor: .zero, at: .seconds(1)) == .restart(after: .seconds(2)))
        history.restarted()
        #expect(history.childExited(status: .exited(1), ranFor: .seconds(5), at: .seconds(7)) == .restart(after: .seconds(1)))
    }

    @Test func aMisconfiguredChildIsNotRestarted() {
        var history = RestartHistory(policy: Self.policy)
        #expect(history.childExited(status: .exited(78), ranFor: .zero, at: .zero) == .giveUpMisconfigured)
    }

    @Test func aLimitOfZeroGivesUpAtTheFirstExit() {
        var policy = Self.policy
        policy.limit = 0
        var history = RestartHistory(policy: policy)
        #expect(history.childExited(status: .signalled(11), ranFor: .zero, at: .zero) == .giveUpAfterTooManyRestarts)
        #expect(history.recentRestarts == 0)
    }

    @Test func settingsComeFromTheEnvironment() throws {
        let policy = try RestartPolicy(environment: [
            "ORDERLY_RESTART_LIMIT": "2", "ORDERLY_RESTART_WINDOW": "1.5", "ORDERLY_RESTART_DELAY": "0.25", "ORDERLY_STOP_TIMEOUT": "7",
        ])
        #expect(policy.limit == 2)
        #expect(policy.window == .milliseconds(1500))
        #expect(policy.firstDelay == .milliseconds(250))
        #expect(policy.stopTimeout == .seconds(7))
        #expect(policy.maxDelay == .seconds(30), "the default")
    }

    @Test func aMalformedSettingIsNamed() {
        #expect(throws: SettingError("ORDERLY_RESTART_LIMIT must be a whole number, not 'many'")) {
            try RestartPolicy(environment: ["ORDERLY_RESTART_LIMIT": "many"])
        }
        #expect(throws: SettingError("ORDERLY_RESTART_DELAY must be a number of seconds, not '1s'")) {
            try RestartPolicy(environment: ["ORDERLY_RESTART_DELAY": "1s"])
        }
    }

    @Test func exitsAreDescribedAsAShellWould() {
        #expect(ExitStatus(waitStatus: 3 << 8) == .exited(3))
        #expect(ExitStatus(waitStatus: 9) == .signalled(9))
        #expect(ExitStatus.exited(3).description == "status 3")
        #expect(ExitStatus.signalled(9).description == "status 137 (SIGKILL)")
        #expect(ExitStatus(code: 139) == .signalled(11))
    }

    @Test func durationsAreWrittenAsSettingsAre() {
        #expect(Duration.milliseconds(200).secondsText == "0.2s")
        #expect(Duration.milliseconds(250).secondsText == "0.25s")
        #expect(Duration.seconds(30).secondsText == "30s")
        #expect(Duration(secondsText: "0.2") == .milliseconds(200))
        #expect(Duration(secondsText: ".5") == nil)
    }

    @Test func theStateFileReadsBackAsItWasWritten() {
        let state = SupervisorState(
            phase: .gaveUp, since: "2026-12-02T10:00:00Z", supervisor: 42, restarts: 5, recentRestarts: 5, recentSeconds: "31.2",
            lastExit: .exited(3), lastExitAt: "2026-12-02T10:00:00Z")
        #expect(SupervisorState(text: state.text) == state)
        #expect(state.text.contains("state=gave-up\n"))
        #expect(state.text.contains("last_exit_text=status 3\n"))
        #expect(state.gaveUpSummary == "gave up after 5 restarts in 31.2s; last exit status 3 at 2026-12-02T10:00:00Z")
    }
}
