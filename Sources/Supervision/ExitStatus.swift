#if canImport(Glibc)
    import Glibc
#endif

/// How a child process ended, as a shell reports it: its exit code, or 128 plus the signal that killed it.
package enum ExitStatus: Sendable, Hashable, CustomStringConvertible {
    case exited(Int32)
    case signalled(Int32)

    /// The status `waitpid` gave.
    package init(waitStatus status: Int32) {
        // WIFEXITED and WTERMSIG, which Swift does not import: the low seven bits are the signal, 0 for an exit.
        let signal = status & 0x7f
        self = signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
    }

    /// The number a shell's `$?` would hold.
    package var code: Int32 {
        switch self {
        case .exited(let code): code
        case .signalled(let signal): 128 + signal
        }
    }

    /// `status 3`, `status 139 (SIGSEGV)`: a status above 128 is named after its signal.
    package var description: String {
        let name = code > 128 ? Self.signalNames[code - 128] : nil
        return "status \(code)" + (name.map { " (\($0))" } ?? "")
    }

    private static let signalNames: [Int32: String] = [
        SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGTRAP: "SIGTRAP", SIGABRT: "SIGABRT",
        SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGUSR1: "SIGUSR1", SIGSEGV: "SIGSEGV", SIGUSR2: "SIGUSR2",
        SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM", SIGTERM: "SIGTERM",
    ]
}
