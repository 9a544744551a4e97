import Foundation
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// One run of `orderly-supervise`, in a folder of its own, supervising a shell command
/// (run with that folder as its working directory) in place of a service.
final class Supervisor {
    /// The name the supervisor is given, and so the stem of its files.
    static let name = "probe"

    /// The `orderly-supervise` of the build under test.
    static let executable = TestEnvironment.binDirectory.appendingPathComponent("orderly-supervise").path

    /// What `orderly system start` gives a supervisor (a clean signal mask and dispositions), done
    /// here with perl: a test thread's would otherwise reach the supervisor, which must take SIGTERM.
    static let cleanSignals = """
        sigprocmask(SIG_SETMASK, POSIX::SigSet->new) or die "sigprocmask: $!\\n";
        $SIG{$_} = "DEFAULT" for qw(HUP INT QUIT PIPE ALRM TERM CHLD USR1 USR2);
        exec { $ARGV[0] } @ARGV or die "exec $ARGV[0]: $!\\n";
        """

    let folder: URL
    private let process = Process()

    init(command: String, environment: [String: String]) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("orderly-supervise-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let logFile = folder.appendingPathComponent("\(Self.name).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let output = try FileHandle(forWritingTo: logFile)
        defer { try? output.close() }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/perl")
        process.arguments = [
            "-MPOSIX", "-e", Self.cleanSignals, "--", Self.executable, Self.name, folder.path, "--", "/bin/sh", "-c", command,
        ]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.currentDirectoryURL = folder
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = output
        try process.run()
    }

    /// The supervisor's own process id.
    var pid: pid_t { process.processIdentifier }

    /// `probe.state` as keys and values; empty before the supervisor first wrote it.
    var state: [String: String] {
        guard let text = file("\(Self.name).state") else { return [:] }
        var state: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            state[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return state
    }

    /// The child's pid from `probe.pid`, nil when there is none.
    var childPID: pid_t? {
        file("\(Self.name).pid").flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// What the supervisor and its child wrote to their output.
    var log: String { file("\(Self.name).log") ?? "" }

    /// The delays the supervisor announced, in order ("0.2s", "0.4s", ...).
    var announcedDelays: [String] {
        log.split(separator: "\n").compactMap { line in
            line.range(of: "; restarting in ").map { String(line[$0.upperBound...]) }
        }
    }

    /// The contents of a file in the folder, nil when it does not exist.
    func file(_ name: String) -> String? {
        try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
    }

    func signal(_ signal: Int32) { _ = kill(pid, signal) }

    /// Waits until a child runs and the state file says so; answers its pid.
    func runningChild() async throws -> pid_t {
        // A wait, not a bound: on a machine loaded by a whole test pass, starting processes can take seconds.
        let deadline = ContinuousClock.now + .seconds(45)
        while ContinuousClock.now < deadline {
            if let child = childPID, state["state"] == "running", state["pid"] == String(child) { return child }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw SupervisorError("no child running within 45 s; log:\n\(log)")
    }

    /// The supervisor's exit status once it has exited, or nil if it still runs after `timeout`.
    func exitStatus(within timeout: Duration) async throws -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else { return nil }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    /// Kills whatever still runs and removes the folder.
    ///
    /// Process starts the supervisor as the leader of a process group, which its children join:
    /// killing the group also gets a child the supervisor lost track of, which would otherwise
    /// keep Process from ever seeing the supervisor's exit.
    func cleanUp() {
        _ = kill(-pid, SIGKILL)
        if process.isRunning {
            _ = kill(pid, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: folder)
    }
}

struct SupervisorError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs `body` with a supervisor of `command`, then kills what is left and removes its folder,
/// whether `body` returns or throws.
func withSupervisor(
    running command: String,
    settings: [String: String] = [:],
    _ body: (Supervisor) async throws -> Void
) async throws {
    let supervisor = try Supervisor(command: command, environment: SupervisorTests.quick.merging(settings) { $1 })
    defer { supervisor.cleanUp() }
    try await body(supervisor)
}

/// Whether a process with this pid exists (and is not a zombie waiting to be collected).
func processExists(_ pid: pid_t) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.range(of: ") ", options: .backwards)
    else { return false }
    return !["Z", "X"].contains(stat[close.upperBound...].prefix(1))
}
