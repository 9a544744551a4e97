import Foundation
import Logging

/// Where the integration tests find the real broker and database, and how they
/// restart them.
///
/// Everything comes from the environment that `./infra/dev test` sets up, with
/// defaults that match `./infra/dev up` on loopback.
public enum TestEnvironment {
    /// `ORDERLY_AMQP_URL`, default `amqp://guest:guest@127.0.0.1:5672/`.
    public static var amqpURL: String {
        ProcessInfo.processInfo.environment["ORDERLY_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/"
    }

    /// `ORDERLY_DATABASE_URL`, default `postgresql://orderly:orderly@127.0.0.1:5432/orderly`.
    public static var databaseURL: String {
        ProcessInfo.processInfo.environment["ORDERLY_DATABASE_URL"]
            ?? "postgresql://orderly:orderly@127.0.0.1:5432/orderly"
    }

    /// A logger for tests: quiet unless `ORDERLY_TEST_LOG_LEVEL` says otherwise.
    public static func logger(_ label: String) -> Logger {
        var logger = Logger(label: label)
        let level = ProcessInfo.processInfo.environment["ORDERLY_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
        logger.logLevel = level ?? .critical
        return logger
    }

    /// A name no other test run uses, for queues, exchanges and schemas.
    public static func uniqueName(_ prefix: String) -> String {
        "\(prefix)_\(UInt32.random(in: 0...UInt32.max))"
    }
}

/// The broker and database processes started by `infra/dev`, which fault tests stop and start for real.
public enum Infrastructure: String, Sendable {
    case rabbitmq
    case postgres

    /// Runs `infra/dev <verb> <service>` and waits for it; throws when it fails.
    public func run(_ verb: String) throws { try DevScript.run(verb, rawValue) }

    /// Stops the process; it no longer accepts connections when this returns.
    public func stop() throws { try run("stop") }

    /// Starts the process and waits until it is ready.
    public func start() throws { try run("start") }

    /// Stops and starts the process.
    public func restart() throws { try run("restart") }

    /// `ORDERLY_DEV`, or `infra/dev` found from this source file.
    static var devScript: String {
        if let path = ProcessInfo.processInfo.environment["ORDERLY_DEV"] { return path }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent("infra/dev").path
    }
}

/// `infra/dev` exited with a failure.
public struct InfrastructureError: Error, CustomStringConvertible {
    public var command: String
    public var status: Int32
    public var description: String { "\(command) exited with status \(status)" }
}

/// `infra/dev` itself, for what fault and end-to-end tests need of the brokers.
public enum DevScript {
    /// Runs `infra/dev` with `arguments` and waits for it; throws when it fails.
    public static func run(_ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [Infrastructure.devScript] + arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw InfrastructureError(command: "infra/dev \(arguments.joined(separator: " "))", status: process.terminationStatus)
        }
    }
}
