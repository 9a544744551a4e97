import CSpawn
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Starting a process with `posix_spawn`, with what a daemon needs and Foundation's `Process` does not give.
package enum ChildProcess {
    /// Starts `arguments` (the first found on `PATH` when it has no slash) and answers its pid.
    ///
    /// The child starts with an empty signal mask and the default action for every signal a caller may
    /// have blocked or ignored (a test thread, or ServiceLifecycle's signal handling, does both): a
    /// service with `SIGTERM` ignored would never drain. It inherits no file descriptor beyond its
    /// standard ones.
    ///
    /// - Parameters:
    ///   - environment: its whole environment; nil inherits this process's.
    ///   - output: a file its standard output and error are appended to (made when missing); nil keeps this process's.
    ///   - input: a file its standard input reads; nil reads nothing (`/dev/null`).
    ///   - directory: the folder it starts in; nil starts it in this process's.
    ///   - newSession: makes it lead a session and process group of its own (`setsid`), so that it outlives
    ///     the terminal or test that started it, and its whole group can be signalled at once.
    /// - Throws: ``SpawnError`` when the program cannot be started.
    package static func spawn(
        _ arguments: [String], environment: [String: String]? = nil, output: String? = nil, input: String? = nil, directory: String? = nil,
        newSession: Bool = false
    ) throws(SpawnError) -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGALRM, SIGTERM, SIGCHLD, SIGUSR1, SIGUSR2] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        let flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | (newSession ? orderly_spawn_setsid_flag() : 0)
        posix_spawnattr_setflags(&attributes, Int16(flags))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, input ?? "/dev/null", O_RDONLY, 0)
        if let output {
            posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_APPEND | O_CREAT, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        orderly_spawn_close_from(&actions, 3)
        if let directory { orderly_spawn_chdir(&actions, directory) }

        let variables = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = variables.map { strdup($0) } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var pid: pid_t = 0
        let status = posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, envp)
        guard status == 0 else { throw SpawnError(program: arguments[0], reason: String(cString: strerror(status))) }
        return pid
    }

    /// Waits for `pid` (a child of this process) to exit, on a thread of its own, and answers how it ended.
    package static func exit(of pid: pid_t) async -> ExitStatus {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
                continuation.resume(returning: ExitStatus(waitStatus: status))
            }
        }
    }

    /// Whether `pid` names a live process (a zombie waiting to be collected counts as gone).
    package static func isAlive(_ pid: pid_t) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.range(of: ") ", options: .backwards)
        else { return false }
        return !["Z", "X"].contains(stat[close.upperBound...].prefix(1))
    }

    /// The command line of `pid`, its arguments joined by spaces; empty when it is gone.
    package static func commandLine(of pid: pid_t) -> String {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return "" }
        return String(decoding: data.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
    }
}

/// A program that could not be started.
package struct SpawnError: Error, CustomStringConvertible {
    package var program: String
    package var reason: String
    package var description: String { "cannot start \(program): \(reason)" }
}
