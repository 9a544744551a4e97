import Foundation
import UnixSignals

#if canImport(Glibc)
    import Glibc
#endif

/// Keeps one service running, as compose's `restart: unless-stopped` does: `orderly-supervise`,
/// which `orderly system start` runs for each instance, with the service as its child.
///
/// A child that exits without the supervisor having been asked to stop is started again as its
/// ``RestartPolicy`` says, until the policy gives up (the supervisor then exits 1). `SIGTERM`,
/// `SIGINT` or `SIGHUP` asks it to stop: the child gets `SIGTERM` and the policy's stop timeout to
/// drain before `SIGKILL`, and the supervisor exits 0 without restarting it.
///
/// What it leaves in its folder, for `orderly system status` and for people: `NAME.pid`, the child's
/// pid, rewritten at each restart (what a `kill` aims at), and `NAME.state` (``SupervisorState``). Its
/// own lines go to standard output, which is the service's log.
package struct Supervisor: Sendable {
    package var name: String
    package var directory: URL
    package var command: [String]
    package var policy: RestartPolicy

    package init(name: String, directory: URL, command: [String], policy: RestartPolicy) {
        self.name = name
        self.directory = directory
        self.command = command
        self.policy = policy
    }

    private enum Event: Sendable {
        case exited(pid_t, ExitStatus)
        case stopAsked
        case timerFired(Int)
    }

    /// Supervises until asked to stop (answers 0) or until the policy gives up (answers 1).
    package func run() async -> Int32 {
        let (events, sink) = AsyncStream.makeStream(of: Event.self)
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint, .sighup)
        let listener = Task {
            for await _ in signals { sink.yield(.stopAsked) }
        }
        defer { listener.cancel() }
        var iterator = events.makeAsyncIterator()
        var history = RestartHistory(policy: policy)
        let clock = ContinuousClock()
        let born = clock.now
        var timers = 0
        func startTimer(_ delay: Duration) -> Int {
            timers += 1
            let id = timers
            Task {
                try? await Task.sleep(for: delay)
                sink.yield(.timerFired(id))
            }
            return id
        }

        var state = SupervisorState(phase: .running, since: Self.now(), supervisor: getpid())
        while true {
            let started = clock.now
            let child: pid_t
            do {
                child = try ChildProcess.spawn(command)
            } catch {
                say("\(error)")
                write(.init(phase: .gaveUp, since: Self.now(), supervisor: getpid()))
                return 1
            }
            Task { sink.yield(.exited(child, await ChildProcess.exit(of: child))) }
            write(file: "\(name).pid", "\(child)\n")
            state.phase = .running
            state.since = Self.now()
            state.pid = child
            state.restarts = history.restarts
            state.nextStartIn = ""
            write(state)
            say(history.restarts == 0 ? "\(name) started (pid \(child))" : "\(name) restarted (pid \(child), restart \(history.restarts))")

            var status: ExitStatus?
            while status == nil, let event = await iterator.next() {
                switch event {
                case .exited(let pid, let exit) where pid == child: status = exit
                case .stopAsked: return await stop(child, state: state, events: &iterator, timer: startTimer)
                default: continue
                }
            }
            guard let status else { return 1 }
            try? FileManager.default.removeItem(at: file("\(name).pid"))
            let decision = history.childExited(status: status, ranFor: clock.now - started, at: clock.now - born)
            state.pid = nil
            state.lastExit = status
            state.lastExitAt = Self.now()
            state.recentRestarts = history.recentRestarts
            state.recentSeconds = Self.tenths(history.recentSpan)
            state.since = state.lastExitAt
            switch decision {
            case .giveUpAfterTooManyRestarts:
                say("\(name) exited with \(status); gave up after \(history.recentRestarts) restarts in \(state.recentSeconds)s")
                state.phase = .gaveUp
                write(state)
                return 1
            case .giveUpMisconfigured:
                say("\(name) exited with \(status): misconfigured (its last log line says why); not restarting it")
                state.phase = .gaveUp
                write(state)
                return 1
            case .restart(let delay):
                say("\(name) exited with \(status); restarting in \(delay.secondsText)")
                state.phase = .restarting
                state.nextStartIn = delay.secondsText
                write(state)
                let timer = startTimer(delay)
                waiting: while let event = await iterator.next() {
                    switch event {
                    case .timerFired(timer): break waiting
                    case .stopAsked:
                        say("\(name) stays stopped, as asked")
                        state.phase = .stopped
                        state.since = Self.now()
                        write(state)
                        return 0
                    default: continue
                    }
                }
                history.restarted()
            }
        }
    }

    /// Stops the running child: `SIGTERM`, then `SIGKILL` once the stop timeout has passed.
    private func stop(
        _ child: pid_t, state: SupervisorState, events: inout AsyncStream<Event>.Iterator, timer startTimer: (Duration) -> Int
    ) async -> Int32 {
        say("stopping \(name) (pid \(child))")
        kill(child, SIGTERM)
        let timeout = startTimer(policy.stopTimeout)
        var exit: ExitStatus?
        while exit == nil, let event = await events.next() {
            switch event {
            case .exited(child, let status): exit = status
            case .timerFired(timeout):
                say("\(name) did not stop within \(policy.stopTimeout.secondsText); killing it")
                kill(child, SIGKILL)
            default: continue
            }
        }
        say("\(name) stopped" + (exit.map { " (\($0))" } ?? ""))
        try? FileManager.default.removeItem(at: file("\(name).pid"))
        var state = state
        state.phase = .stopped
        state.pid = nil
        state.since = Self.now()
        write(state)
        return 0
    }

    // MARK: Files and lines

    private func file(_ name: String) -> URL { directory.appendingPathComponent(name) }

    private func write(_ state: SupervisorState) { write(file: "\(name).state", state.text) }

    /// Replaced whole (write, then rename), so a reader never sees half a file.
    private func write(file name: String, _ text: String) {
        try? Data(text.utf8).write(to: file(name), options: .atomic)
    }

    private func say(_ line: String) {
        FileHandle.standardOutput.write(Data("\(Self.now()) supervisor: \(line)\n".utf8))
    }

    private static func now() -> String { Date().ISO8601Format() }

    /// Seconds to a tenth, as the state's `recent_seconds` holds them.
    private static func tenths(_ duration: Duration) -> String {
        let tenths = (duration.milliseconds + 50) / 100
        return tenths % 10 == 0 ? "\(tenths / 10)" : "\(tenths / 10).\(tenths % 10)"
    }
}
