import Foundation

/// RabbitMQ and PostgreSQL as `infra/dev` runs them on this machine: a fault run stops and starts
/// them through it, and makes its virtual host with its `rabbitmqctl`.
package struct LocalInfrastructure: Sendable {
    /// The path of `infra/dev`.
    package let script: String
    /// Variables `infra/dev` runs with on top of this process's own: another data folder and other
    /// ports (`ORDERLY_DATA_DIR`, `ORDERLY_AMQP_PORT`, `ORDERLY_RABBIT_NODES`) make a second installation.
    /// An empty value removes the variable.
    package let environment: [String: String]

    package init(script: String, environment: [String: String] = [:]) {
        self.script = script
        self.environment = environment
    }

    /// One of the processes `infra/dev` runs.
    package enum Process: String, Sendable {
        case rabbitmq, postgres
    }

    /// `ORDERLY_DEV`, or `infra/dev` in the current directory or above it, or above `directory`.
    package static func find(near directory: URL? = nil) -> LocalInfrastructure? {
        if let path = ProcessInfo.processInfo.environment["ORDERLY_DEV"] { return LocalInfrastructure(script: path) }
        let starts = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath)] + (directory.map { [$0] } ?? [])
        for start in starts {
            var folder = start.standardizedFileURL
            while folder.path != "/" {
                let candidate = folder.appendingPathComponent("infra/dev")
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return LocalInfrastructure(script: candidate.path) }
                folder.deleteLastPathComponent()
            }
        }
        return nil
    }

    /// Where `infra/dev` keeps data, logs and pid files: `ORDERLY_DATA_DIR`, or `.data` next to `infra/`.
    package var dataDirectory: URL {
        if let path = environment["ORDERLY_DATA_DIR"] ?? ProcessInfo.processInfo.environment["ORDERLY_DATA_DIR"] {
            return URL(fileURLWithPath: path)
        }
        return URL(fileURLWithPath: script).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".data")
    }

    /// The process id of the running RabbitMQ node or PostgreSQL postmaster, from `infra/dev`'s pid files.
    package func pid(of process: Process) -> Int32? {
        let file =
            switch process {
            case .rabbitmq: dataDirectory.appendingPathComponent("rabbitmq/rabbitmq.pid")
            case .postgres: dataDirectory.appendingPathComponent("postgres/data/postmaster.pid")
            }
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return nil }
        return text.split(whereSeparator: \.isNewline).first.flatMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
    }

    /// Stops the process; it no longer accepts connections when this returns.
    package func stop(_ process: Process, quiet: Bool = false) throws { try run(["stop", process.rawValue], quiet: quiet) }

    /// Starts the process and waits until it is ready.
    package func start(_ process: Process, quiet: Bool = false) throws { try run(["start", process.rawValue], quiet: quiet) }

    /// Stops and starts the process.
    package func restart(_ process: Process, quiet: Bool = false) throws { try run(["restart", process.rawValue], quiet: quiet) }

    /// Stops one node of a RabbitMQ cluster, named `rabbitmq-K` or by its Erlang name; the others go on.
    package func stop(rabbitNode node: String, quiet: Bool = false) throws { try run(["stop", node], quiet: quiet) }

    /// Starts one node of a RabbitMQ cluster again and waits until it has booted and rejoined.
    package func start(rabbitNode node: String, quiet: Bool = false) throws { try run(["start", node], quiet: quiet) }

    /// `rabbitmqctl` against the project's node, its output discarded.
    package func rabbitmqctl(_ arguments: String...) throws { try run(["rabbitmqctl"] + Self.bounded + arguments, quiet: true) }

    /// How long a `rabbitmqctl` command may wait for the node: a wedged node fails the command instead of hanging it.
    static let bounded = ["--timeout", "120"]

    /// `rabbitmqctl` against the project's node with `input` on its standard input; its standard output.
    ///
    /// - Throws: ``LocalInfrastructureError`` when it exits with a failure.
    package func rabbitmqctl(_ arguments: [String], input: Data?) throws -> String {
        let process = makeProcess([script, "rabbitmqctl"] + Self.bounded + arguments)
        let output = Pipe()
        let feed = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = input == nil ? FileHandle.nullDevice : feed
        try process.run()
        if let input {
            feed.fileHandleForWriting.write(input)
            try feed.fileHandleForWriting.close()
        }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw LocalInfrastructureError(command: "infra/dev rabbitmqctl \(arguments.joined(separator: " "))", status: process.terminationStatus)
        }
        return text
    }

    /// Runs `infra/dev` with `arguments` and waits for it; its output goes to the caller's unless `quiet`.
    ///
    /// - Throws: ``LocalInfrastructureError`` when it exits with a failure.
    package func run(_ arguments: [String], quiet: Bool = false) throws {
        let process = makeProcess([script] + arguments)
        if quiet {
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw LocalInfrastructureError(command: "infra/dev \(arguments.joined(separator: " "))", status: process.terminationStatus)
        }
    }

    /// `bash` with `arguments`, in this process's environment with ``environment`` on top.
    private func makeProcess(_ arguments: [String]) -> Foundation.Process {
        let process = Foundation.Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = arguments
        var inherited = ProcessInfo.processInfo.environment
        // infra/dev runs the installation with an orderly; the one next to this executable (the services' build,
        // or the build under test) spares it finding the release build for each call.
        let own = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        if inherited["ORDERLY_SYSTEM_BIN"] == nil, FileManager.default.isExecutableFile(atPath: own.appendingPathComponent("orderly").path) {
            inherited["ORDERLY_SYSTEM_BIN"] = own.path
        }
        process.environment = inherited.merging(environment) { $1 }.filter { !$0.value.isEmpty }
        return process
    }
}

/// `infra/dev` exited with a failure.
package struct LocalInfrastructureError: Error, CustomStringConvertible {
    package var command: String
    package var status: Int32
    package var description: String { "\(command) exited with status \(status)" }
}
