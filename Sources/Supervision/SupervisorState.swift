import Foundation

/// What a supervisor last did, as it writes it next to its child's pid (`NAME.state`, `key=value`
/// lines) for `orderly system status` and for people.
package struct SupervisorState: Sendable, Hashable {
    package enum Phase: String, Sendable, Hashable {
        case running, restarting, stopped
        case gaveUp = "gave-up"
    }

    package var phase: Phase
    /// When it entered ``phase``.
    package var since: String
    package var supervisor: Int32
    /// The child's pid while one runs.
    package var pid: Int32?
    package var restarts: Int
    /// The restarts counted against the limit, and over how many seconds they came (to a tenth).
    package var recentRestarts: Int
    package var recentSeconds: String
    package var lastExit: ExitStatus?
    package var lastExitAt: String
    /// While restarting: the delay before the next start (`2s`).
    package var nextStartIn: String

    package init(
        phase: Phase, since: String, supervisor: Int32, pid: Int32? = nil, restarts: Int = 0, recentRestarts: Int = 0,
        recentSeconds: String = "0", lastExit: ExitStatus? = nil, lastExitAt: String = "", nextStartIn: String = ""
    ) {
        self.phase = phase
        self.since = since
        self.supervisor = supervisor
        self.pid = pid
        self.restarts = restarts
        self.recentRestarts = recentRestarts
        self.recentSeconds = recentSeconds
        self.lastExit = lastExit
        self.lastExitAt = lastExitAt
        self.nextStartIn = nextStartIn
    }

    /// The file's text.
    package var text: String {
        let lines = [
            ("state", phase.rawValue), ("since", since), ("supervisor", "\(supervisor)"), ("pid", pid.map { "\($0)" } ?? ""),
            ("restarts", "\(restarts)"), ("recent_restarts", "\(recentRestarts)"), ("recent_seconds", recentSeconds),
            ("last_exit", lastExit.map { "\($0.code)" } ?? ""), ("last_exit_text", lastExit?.description ?? ""),
            ("last_exit_at", lastExitAt), ("next_start_in", nextStartIn),
        ]
        return lines.map { "\($0)=\($1)\n" }.joined()
    }

    /// Reads a file's text; nil when it names no state this version knows.
    package init?(text: String) {
        var values: [Substring: Substring] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[line[..<equals]] = line[line.index(after: equals)...]
        }
        guard let phase = values["state"].flatMap({ Phase(rawValue: String($0)) }) else { return nil }
        func value(_ key: Substring) -> String { values[key].map(String.init) ?? "" }
        self.init(
            phase: phase, since: value("since"), supervisor: Int32(value("supervisor")) ?? 0, pid: Int32(value("pid")),
            restarts: Int(value("restarts")) ?? 0, recentRestarts: Int(value("recent_restarts")) ?? 0,
            recentSeconds: value("recent_seconds"), lastExit: Int32(value("last_exit")).map(ExitStatus.init(code:)),
            lastExitAt: value("last_exit_at"), nextStartIn: value("next_start_in"))
    }

    /// `gave up after 5 restarts in 31.2s; last exit status 3 at <time>`.
    package var gaveUpSummary: String {
        "gave up after \(Self.restartsText(recentRestarts)) in \(recentSeconds)s; last exit \(lastExit?.description ?? "?") at \(lastExitAt)"
    }

    /// `no restarts`, `1 restart`, `5 restarts`.
    package static func restartsText(_ count: Int) -> String {
        switch count {
        case 0: "no restarts"
        case 1: "1 restart"
        default: "\(count) restarts"
        }
    }
}

extension ExitStatus {
    /// The status a shell number stands for: above 128, the signal that killed the child.
    package init(code: Int32) { self = code > 128 ? .signalled(code - 128) : .exited(code) }
}
