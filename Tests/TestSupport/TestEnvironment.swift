import Foundation
import LocalRun
import Logging
import Provisioning

/// Where the integration tests find the real broker and database, and how they
/// restart them.
///
/// Everything comes from the environment that `./infra/dev test` sets up, with
/// defaults that match `./infra/dev up` on loopback.
package enum TestEnvironment {
    /// `ORDERLY_AMQP_URL`: the operator's (`./infra/dev test` passes it), default `amqp://guest:guest@127.0.0.1:5672/`.
    package static var amqpURL: String {
        ProcessInfo.processInfo.environment["ORDERLY_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/"
    }

    /// `ORDERLY_DATABASE_URL`: the operator's (`./infra/dev test` passes it), default `postgresql://orderly:orderly@127.0.0.1:5432/orderly`.
    package static var databaseURL: String {
        ProcessInfo.processInfo.environment["ORDERLY_DATABASE_URL"]
            ?? "postgresql://orderly:orderly@127.0.0.1:5432/orderly"
    }

    /// The secrets `./infra/dev` provisioned the brokers with: `ORDERLY_SECRETS_DIR`, or `.data/secrets` of this checkout.
    package static var secrets: SecretStore {
        if let path = ProcessInfo.processInfo.environment["ORDERLY_SECRETS_DIR"] { return SecretStore(directory: URL(fileURLWithPath: path)) }
        return SecretStore(directory: repositoryRoot.appendingPathComponent(".data/secrets"))
    }

    /// The broker URL as `user` (a service's own user, the ingress user), with its provisioned password.
    package static func amqpURL(asUser user: String) throws -> String { try Credentials(secrets: secrets).amqpURL(user: user, base: amqpURL) }

    /// The database URL as `role` (a service's own role), with its provisioned password.
    package static func databaseURL(asRole role: String) throws -> String {
        try Credentials(secrets: secrets).databaseURL(role: role, base: databaseURL)
    }

    /// The root of the repository the tests run from.
    package static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// A logger for tests: quiet unless `ORDERLY_TEST_LOG_LEVEL` says otherwise.
    package static func logger(_ label: String) -> Logger {
        var logger = Logger(label: label)
        let level = ProcessInfo.processInfo.environment["ORDERLY_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
        logger.logLevel = level ?? .critical
        return logger
    }

    /// A name no other test run uses, for queues, exchanges and schemas.
    package static func uniqueName(_ prefix: String) -> String {
        "\(prefix)_\(UInt32.random(in: 0...UInt32.max))"
    }

    /// The broker and database processes of `infra/dev`: `ORDERLY_DEV`, or `infra/dev` found from this source file.
    package static var infrastructure: LocalInfrastructure {
        if let found = LocalInfrastructure.find() { return found }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return LocalInfrastructure(script: root.appendingPathComponent("infra/dev").path)
    }

    /// Where the service executables are: `ORDERLY_BIN_DIR`, or the debug build of this checkout.
    package static var binDirectory: URL {
        if let path = ProcessInfo.processInfo.environment["ORDERLY_BIN_DIR"] { return URL(fileURLWithPath: path) }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug")
    }
}

/// The broker and database processes started by `infra/dev`, which fault tests stop and start for real.
package enum Infrastructure: String, Sendable {
    case rabbitmq
    case postgres

    var process: LocalInfrastructure.Process { self == .rabbitmq ? .rabbitmq : .postgres }

    /// Stops the process; it no longer accepts connections when this returns.
    package func stop() throws { try TestEnvironment.infrastructure.stop(process) }

    /// Starts the process and waits until it is ready.
    package func start() throws { try TestEnvironment.infrastructure.start(process) }

    /// Stops and starts the process.
    package func restart() throws { try TestEnvironment.infrastructure.restart(process) }
}
