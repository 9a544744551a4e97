import ArgumentParser
import Foundation
import LocalRun
import Provisioning

/// How `orderly chaos` and `orderly bench e2e` start a whole system of their own on this machine's brokers.
struct LocalSystemOptions: ParsableArguments {
    @Option(help: "Instances of each service, competing on the same queues.") var replicas = 1
    @Option(help: "Where the service executables are (default: next to this one).") var binDirectory: String?
    @Option(help: "The installation's secrets: each service then logs in as its own broker user and database role.")
    var secrets = Environment.value("ORDERLY_SECRETS_DIR") ?? "\(Environment.value("ORDERLY_DATA_DIR") ?? ".data")/secrets"

    /// The system's configuration on the brokers `connection` reaches, and the `infra/dev` that runs those brokers.
    func system(on connection: ConnectionOptions) throws -> (LocalSystem.Configuration, LocalInfrastructure) {
        let binDirectory = URL(fileURLWithPath: self.binDirectory ?? Self.ownDirectory.path)
        guard let infrastructure = LocalInfrastructure.find(near: binDirectory) else {
            throw ValidationError("infra/dev not found: run from the repository, or set ORDERLY_DEV")
        }
        var configuration = LocalSystem.Configuration(binDirectory: binDirectory, amqpURL: connection.amqpURL, databaseURL: connection.databaseURL)
        configuration.replicas = replicas
        if FileManager.default.fileExists(atPath: secrets) { configuration.secrets = SecretStore(directory: URL(fileURLWithPath: secrets)) }
        return (configuration, infrastructure)
    }

    /// The folder of this executable, where `swift build` puts the services too.
    static var ownDirectory: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    }
}
