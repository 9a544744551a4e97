import Foundation
import Supervision
import Timing

#if canImport(Glibc)
    import Glibc
#endif

/// What the brokers' management needs of this machine: running its tools (as the brokers' users
/// when this process is root), folders those users own, the kernel's socket table.
package enum LocalMachine {
    package static var isRoot: Bool { geteuid() == 0 }

    /// `arguments` run as `user` when this process is root (the brokers run as their package users then),
    /// as they are otherwise.
    static func asUser(_ user: String, _ arguments: [String]) -> [String] { isRoot ? ["runuser", "-u", user, "--"] + arguments : arguments }

    /// Runs `arguments` and waits for it, at most `timeout` (then it is killed); its output and error go to
    /// `output` (appended), else nowhere.
    @discardableResult
    static func run(
        _ arguments: [String], output: String = "/dev/null", input: String? = nil, directory: String? = nil, timeout: Duration? = nil
    ) async -> ExitStatus {
        let pid: pid_t
        do {
            pid = try ChildProcess.spawn(arguments, output: output, input: input, directory: directory)
        } catch {
            try? Data("\(error)\n".utf8).append(to: output)
            return .exited(127)
        }
        guard let timeout else { return await ChildProcess.exit(of: pid) }
        return await withTaskGroup(of: ExitStatus?.self) { group in
            group.addTask { await ChildProcess.exit(of: pid) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                kill(pid, SIGKILL)
                return nil
            }
            let first = await group.next()!
            group.cancelAll()
            return first ?? .signalled(SIGKILL)
        }
    }

    /// Runs `arguments` and answers how it ended and what it wrote (output and error together).
    static func capture(_ arguments: [String], input: String? = nil, directory: String? = nil, timeout: Duration? = nil) async -> (
        status: ExitStatus, output: String
    ) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("orderly-\(UUID().uuidString).out")
        defer { try? FileManager.default.removeItem(at: file) }
        let status = await run(arguments, output: file.path, input: input, directory: directory, timeout: timeout)
        return (status, (try? String(contentsOf: file, encoding: .utf8)) ?? "")
    }

    /// Polls `condition` every 200 ms until it holds (true) or `timeout` has passed (false).
    static func wait(for timeout: Duration, until condition: () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while await !condition() {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return true
    }

    /// Whether something listens on TCP `port`, read from the kernel's socket tables rather than by
    /// connecting: a probe connection would show up in RabbitMQ's log as a failed AMQP handshake.
    package static func isListening(_ port: Int) -> Bool {
        let suffix = ":" + String(format: "%04X", port)
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = try? String(contentsOfFile: table, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                if fields.count > 3, fields[3] == "0A", fields[1].hasSuffix(suffix) { return true }
            }
        }
        return false
    }

    /// Fails with what to do when `port` is taken by a process that is not ours.
    static func requireFree(_ port: Int, for what: String) throws {
        guard isListening(port) else { return }
        throw LocalRunError(
            """
            port \(port) (needed for \(what)) is taken by something that is not ours. Stop it (a system service? \
            systemctl stop rabbitmq-server / postgresql), or pick other ports with ORDERLY_AMQP_PORT, ORDERLY_PG_PORT \
            or ORDERLY_HTTP_PORT_BASE.
            """)
    }

    /// Makes `directory` (and its parents) owned by `user` when this process is root, with `mode`.
    static func ownedDirectory(_ directory: URL, user: String, mode: Int = 0o750) async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if isRoot, (try? FileManager.default.attributesOfItem(atPath: directory.path)[.ownerAccountName] as? String) != user {
            await run(["chown", "-R", "\(user):", directory.path])
        }
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: directory.path)
    }

    /// The brokers' users must reach their folders through every parent (RabbitMQ refuses to boot
    /// from a folder it cannot write, initdb from one it cannot enter).
    static func makeTraversable(_ directory: URL, console: Console) throws {
        guard isRoot else { return }
        var folder = directory.standardizedFileURL
        while folder.path != "/" {
            let mode = (try FileManager.default.attributesOfItem(atPath: folder.path)[.posixPermissions] as? Int) ?? 0
            if mode & 1 == 0 {
                console.note("making \(folder.path) traversable for the broker users (chmod o+x)")
                try FileManager.default.setAttributes([.posixPermissions: mode | 1], ofItemAtPath: folder.path)
            }
            folder.deleteLastPathComponent()
        }
    }

    /// Writes `text` to `file` only when it differs, so that a second start leaves files untouched.
    static func write(_ text: String, to file: URL, owner: String? = nil) throws {
        if (try? String(contentsOf: file, encoding: .utf8)) == text { return }
        try Data(text.utf8).write(to: file, options: .atomic)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file.path)
        if isRoot, let owner { try FileManager.default.setAttributes([.ownerAccountName: owner], ofItemAtPath: file.path) }
    }

    /// The last lines of each log that has any, for an error message.
    static func tail(_ files: [URL], lines: Int = 30) -> String {
        files.compactMap { file in
            guard let text = try? String(contentsOf: file, encoding: .utf8), !text.isEmpty else { return nil }
            return "--- last lines of \(file.path) ---\n" + text.split(separator: "\n").suffix(lines).joined(separator: "\n")
        }.joined(separator: "\n")
    }

    /// A number alone on the first line of `file` (a pid file, a recorded count), nil when there is none.
    static func number(in file: URL, line: Int = 0) -> Int? {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return lines.indices.contains(line) ? Int(lines[line].trimmingCharacters(in: .whitespaces)) : nil
    }

    /// Seconds since `start`, to a tenth: `1.2s`.
    static func elapsed(since start: ContinuousClock.Instant) -> String {
        String(format: "%.1fs", (ContinuousClock.now - start).seconds)
    }
}

/// A start, stop or provisioning step of the local installation that cannot be done, with what to do about it.
package struct LocalRunError: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

extension Data {
    /// Appends to `file`, which is made when missing.
    func append(to path: String) throws {
        if let handle = FileHandle(forWritingAtPath: path) {
            defer { try? handle.close() }
            handle.seekToEndOfFile()
            handle.write(self)
        } else {
            try write(to: URL(fileURLWithPath: path))
        }
    }
}
