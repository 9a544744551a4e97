import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The supervisor that `infra/dev up` runs each service under, on its own: tiny shell commands
/// stand in for the services, and short delays and limits keep each test to a few seconds.
@Suite(.timeLimit(.minutes(3)))
struct SupervisorTests {
    /// Settings for a test: delays in tenths of a second, limits that only the tests about them reach.
    static let quick = [
        "ORDERLY_RESTART_DELAY": "0.2", "ORDERLY_RESTART_MAX_DELAY": "5", "ORDERLY_RESTART_RESET": "60",
        "ORDERLY_RESTART_LIMIT": "10", "ORDERLY_RESTART_WINDOW": "60", "ORDERLY_STOP_TIMEOUT": "5",
    ]

    @Test func aCommandThatKeepsFailingIsRestartedWithGrowingDelaysUntilTheSupervisorGivesUp() async throws {
        try await withSupervisor(running: "date +%s.%N >>runs; exit 3", settings: ["ORDERLY_RESTART_LIMIT": "3"]) { supervisor in
            let status = try await supervisor.exitStatus(within: .seconds(20))
            #expect(status == 1)

            let runs = (supervisor.file("runs") ?? "").split(separator: "\n").compactMap { Double($0) }
            #expect(runs.count == 4, "the first run and three restarts")
            let gaps = zip(runs.dropFirst(), runs).map { $0 - $1 }
            for (gap, delay) in zip(gaps, [0.2, 0.4, 0.8]) {
                #expect(gap >= delay - 0.01, "a restart \(gap)s after the run before it, sooner than its delay of \(delay)s")
            }
            #expect(supervisor.announcedDelays == ["0.2s", "0.4s", "0.8s"])

            let state = supervisor.state
            #expect(state["state"] == "gave-up")
            #expect(state["last_exit"] == "3")
            #expect(state["last_exit_text"] == "status 3")
            #expect(state["restarts"] == "3")
            #expect(state["recent_restarts"] == "3")
            #expect(state["pid"] == "")
            #expect(supervisor.childPID == nil)
            #expect(supervisor.log.contains("supervisor: probe exited with status 3; restarting in 0.2s"))
            #expect(supervisor.log.contains("supervisor: probe exited with status 3; gave up after 3 restarts in "))
        }
    }

    @Test func aMisconfiguredServiceIsNotRestarted() async throws {
        try await withSupervisor(running: "date +%s.%N >>runs; exit 78") { supervisor in
            let status = try await supervisor.exitStatus(within: .seconds(30))
            #expect(status == 1)
            #expect((supervisor.file("runs") ?? "").split(separator: "\n").count == 1)
            #expect(supervisor.state["state"] == "gave-up")
            #expect(supervisor.log.contains("misconfigured"))
        }
    }

    @Test func aChildKilledWithSigkillIsStartedAgainUnderANewPid() async throws {
        try await withSupervisor(running: "exec sleep 60") { supervisor in
            let first = try await supervisor.runningChild()
            kill(first, SIGKILL)

            try await eventually(within: .seconds(30), "a second child") {
                supervisor.state["restarts"] == "1" && supervisor.state["state"] == "running"
            }
            let second = try await supervisor.runningChild()
            #expect(second != first)
            #expect(processExists(second))
            #expect(supervisor.state["last_exit_text"] == "status 137 (SIGKILL)")
            #expect(supervisor.log.contains("supervisor: probe exited with status 137 (SIGKILL); restarting in 0.2s"))

            supervisor.signal(SIGTERM)
            #expect(try await supervisor.exitStatus(within: .seconds(30)) == 0)
            #expect(!processExists(second))
        }
    }

    @Test func aChildThatDiesOfASignalIsReportedByTheSignalsName() async throws {
        try await withSupervisor(running: "kill -SEGV $$", settings: ["ORDERLY_RESTART_LIMIT": "0"]) { supervisor in
            let status = try await supervisor.exitStatus(within: .seconds(30))
            #expect(status == 1)
            #expect(supervisor.state["state"] == "gave-up")
            #expect(supervisor.state["last_exit_text"] == "status 139 (SIGSEGV)")
            #expect(supervisor.log.contains("supervisor: probe exited with status 139 (SIGSEGV); gave up after 0 restarts"))
        }
    }

    @Test func sigtermGoesOnToTheChildAndEndsTheSupervisorWithoutARestart() async throws {
        let command = "trap 'echo terminated >stopped; exit 0' TERM; while :; do sleep 0.05; done"
        try await withSupervisor(running: command) { supervisor in
            let child = try await supervisor.runningChild()
            supervisor.signal(SIGTERM)

            #expect(try await supervisor.exitStatus(within: .seconds(30)) == 0)
            #expect(supervisor.file("stopped") == "terminated\n")
            #expect(!processExists(child))
            #expect(supervisor.state["state"] == "stopped")
            #expect(supervisor.state["restarts"] == "0")
            #expect(supervisor.childPID == nil)
            #expect(supervisor.log.contains("supervisor: probe stopped (status 0)"))
            #expect(!supervisor.log.contains("restart"))
        }
    }

    @Test func aChildThatIgnoresSigtermIsKilledWhenTheStopTimeoutRunsOut() async throws {
        try await withSupervisor(running: "trap '' TERM; while :; do sleep 0.05; done", settings: ["ORDERLY_STOP_TIMEOUT": "0.5"]) { supervisor in
            let child = try await supervisor.runningChild()
            let asked = ContinuousClock.now
            supervisor.signal(SIGTERM)

            #expect(try await supervisor.exitStatus(within: .seconds(30)) == 0)
            #expect(ContinuousClock.now - asked >= .milliseconds(500))
            #expect(!processExists(child))
            #expect(supervisor.log.contains("supervisor: probe did not stop within 0.5s; killing it"))
            #expect(supervisor.state["state"] == "stopped")
        }
    }

    @Test func aStopWhileWaitingToRestartEndsTheSupervisorAtOnce() async throws {
        try await withSupervisor(running: "exit 3", settings: ["ORDERLY_RESTART_DELAY": "30"]) { supervisor in
            try await eventually(within: .seconds(30), "the supervisor waits to restart") { supervisor.state["state"] == "restarting" }
            #expect(supervisor.state["next_start_in"] == "30s")
            let asked = ContinuousClock.now
            supervisor.signal(SIGTERM)

            // Well inside the 30 s it would sleep first if the signal did not cut its wait short: the bound tells the two
            // apart, and no load on the machine makes a stop take that long.
            #expect(try await supervisor.exitStatus(within: .seconds(20)) == 0)
            #expect(ContinuousClock.now - asked < .seconds(20))
            #expect(supervisor.state["state"] == "stopped")
            #expect(!supervisor.log.contains("restarted"))
        }
    }

    @Test func theDelayFallsBackToTheFirstOnceAChildStayedUpLongEnough() async throws {
        // The second run stays up longer than ORDERLY_RESTART_RESET; the others fail at once.
        let command = "n=$(($(cat count 2>/dev/null || echo 0) + 1)); echo $n >count; if [ $n -eq 2 ]; then sleep 0.8; fi; exit 3"
        try await withSupervisor(running: command, settings: ["ORDERLY_RESTART_RESET": "0.5"]) { supervisor in
            try await eventually(within: .seconds(20), "three restarts announced") { supervisor.announcedDelays.count >= 3 }
            #expect(Array(supervisor.announcedDelays.prefix(3)) == ["0.2s", "0.2s", "0.4s"])
            supervisor.signal(SIGTERM)
            #expect(try await supervisor.exitStatus(within: .seconds(30)) == 0)
        }
    }

    @Test func crashesOlderThanTheWindowNoLongerCountAgainstTheLimit() async throws {
        // Crashes come at least 0.6 s apart, so a 1 s window never holds more than two of them, and two
        // restarts within the window, the limit, are never passed.
        let settings = [
            "ORDERLY_RESTART_LIMIT": "2", "ORDERLY_RESTART_WINDOW": "1", "ORDERLY_RESTART_DELAY": "0.6", "ORDERLY_RESTART_MAX_DELAY": "0.6",
        ]
        try await withSupervisor(running: "exit 3", settings: settings) { supervisor in
            try await eventually(within: .seconds(20), "four restarts") { Int(supervisor.state["restarts"] ?? "") ?? 0 >= 4 }
            #expect(try await supervisor.exitStatus(within: .zero) == nil, "the supervisor gave up")
            #expect(Int(supervisor.state["recent_restarts"] ?? "") ?? 99 <= 1)
            supervisor.signal(SIGTERM)
            #expect(try await supervisor.exitStatus(within: .seconds(30)) == 0)
        }
    }

    @Test func aMalformedSettingStopsTheSupervisorBeforeItStartsAnything() async throws {
        try await withSupervisor(running: "echo ran >ran", settings: ["ORDERLY_RESTART_LIMIT": "many"]) { supervisor in
            let status = try await supervisor.exitStatus(within: .seconds(30))
            #expect(status == 2)
            #expect(supervisor.log.contains("ORDERLY_RESTART_LIMIT must be a whole number, not 'many'"))
            #expect(supervisor.file("ran") == nil)
        }
    }
}
