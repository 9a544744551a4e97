import Foundation
import LocalRun
import NIOHTTP1
import TestSupport
import Testing

/// Orderly as `compose.yaml` deploys it, driven the way an operator drives it: `docker-compose` and
/// `docker` against whatever engine `DOCKER_HOST` names (`./infra/dev test compose` serves Podman's
/// Docker API there), with a `.env` of its own from `orderly system env`, its published ports moved
/// to free ones, and the images named by `ORDERLY_*_IMAGE` when they are set.
struct ComposeStack {
    /// `ORDERLY_COMPOSE_TESTS=1`: the tier is asked for (it builds images and boots containers).
    static var enabled: Bool { ProcessInfo.processInfo.environment["ORDERLY_COMPOSE_TESTS"] == "1" }

    /// The variables of the tier's environment that `.env` passes on to compose.yaml: which images to
    /// run (stand-ins where no registry can be reached).
    static let passedOn = ["ORDERLY_SWIFT_IMAGE", "ORDERLY_RUNTIME_IMAGE", "ORDERLY_POSTGRES_IMAGE", "ORDERLY_RABBITMQ_IMAGE"]

    /// The containers compose.yaml runs, by service name.
    static let brokers = ["rabbitmq", "postgres"]
    static let applications = ["gateway-sim", "order-service", "payment-service", "inventory-service", "notification-service"]
    static var services: [String] { brokers + applications }

    let project: String
    let folder: URL
    /// The `.env` compose.yaml reads, as values.
    let values: [String: String]

    /// A new project's folder and `.env`: every secret fresh, every published port free.
    static func prepare() async throws -> ComposeStack {
        let project = "orderly-compose-\(UInt32.random(in: 0...UInt32.max))"
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(project)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let made = try await Command.run(SystemUnderTest.binDirectory.appendingPathComponent("orderly"), ["system", "env"])
        try #require(made.status == 0, "orderly system env: \(made.stderr)")
        var values = Self.values(in: made.stdout)
        for service in services { values[portVariable(service)] = String(try SystemUnderTest.freePort()) }
        for name in passedOn { values[name] = ProcessInfo.processInfo.environment[name] }
        let text = values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)\n" }.joined()
        try Data(text.utf8).write(to: folder.appendingPathComponent(".env"))
        return ComposeStack(project: project, folder: folder, values: values)
    }

    /// The `NAME=value` lines of a `.env`.
    static func values(in text: String) -> [String: String] {
        var values: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return values
    }

    /// The variable that moves a service's published port (`ORDERLY_PORT_ORDER_SERVICE`).
    static func portVariable(_ service: String) -> String { "ORDERLY_PORT_" + service.uppercased().replacingOccurrences(of: "-", with: "_") }

    func port(_ service: String) -> Int { Int(values[Self.portVariable(service)] ?? "") ?? 0 }
    func url(_ service: String) -> String { "http://127.0.0.1:\(port(service))" }
    func value(_ name: String) throws -> String { try #require(values[name], "\(name) is not in .env") }

    // MARK: Commands

    /// `docker-compose -p PROJECT -f compose.yaml --env-file .env ARGUMENTS`.
    func compose(_ arguments: [String], timeout: Duration = .seconds(300)) async throws -> Command {
        let tool = try #require(Command.find("docker-compose"), "docker-compose is not installed (./infra/dev test compose installs it)")
        let file = TestEnvironment.repositoryRoot.appendingPathComponent("compose.yaml")
        return try await Command.run(
            tool,
            [
                "-p", project, "-f", file.path, "--project-directory", TestEnvironment.repositoryRoot.path,
                "--env-file", folder.appendingPathComponent(".env").path,
            ] + arguments, timeout: timeout)
    }

    /// `docker ARGUMENTS` against the same engine, or `podman ARGUMENTS` where only Podman is installed
    /// (the commands used here mean the same to both).
    func docker(_ arguments: [String], timeout: Duration = .seconds(60)) async throws -> Command {
        let tool = try #require(Command.find("docker") ?? Command.find("podman"), "neither the docker client nor podman is installed")
        return try await Command.run(tool, arguments, timeout: timeout)
    }

    /// The id of a service's container.
    func container(_ service: String) async throws -> String {
        let listed = try await compose(["ps", "-q", service])
        return try #require(listed.stdout.split(whereSeparator: \.isNewline).first.map(String.init), "no container for \(service)")
    }

    /// `docker inspect --format FORMAT` of a service's container.
    func inspect(_ service: String, _ format: String) async throws -> String {
        let run = try await docker(["inspect", "--format", format, try await container(service)])
        return run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Waits until every service's container reports `healthy`; records which are not after `timeout`.
    func awaitHealthy(_ services: [String] = ComposeStack.services, within timeout: Duration = .seconds(300)) async throws {
        let deadline = ContinuousClock.now + timeout
        var unhealthy = services
        while !unhealthy.isEmpty {
            var still: [String] = []
            for service in unhealthy where (try? await inspect(service, "{{.State.Health.Status}}")) != "healthy" { still.append(service) }
            unhealthy = still
            guard !unhealthy.isEmpty else { return }
            guard ContinuousClock.now < deadline else {
                Issue.record("not healthy after \(timeout): \(unhealthy.joined(separator: ", "))\n\(try await compose(["ps"]).stdout)")
                throw ComposeError.unhealthy(unhealthy)
            }
            try await Task.sleep(for: .seconds(2))
        }
    }

    enum ComposeError: Error { case unhealthy([String]) }

    // MARK: HTTP

    /// A request to a service through its published port, with the intake's key.
    func request(_ method: HTTPMethod, _ service: String = "order-service", path: String, body: String? = nil) async throws -> ServiceHTTP.Answer {
        try await ServiceHTTP.send(
            method, to: url(service), path: path, body: body, headers: [("Content-Type", "application/json")],
            apiKey: try value("ORDERLY_API_KEYS").split(separator: ",").first.map(String.init), timeout: .seconds(15))
    }

    /// The operator's logins through the published ports, as `.data/secrets/operator.env` holds them.
    var operatorEnvironment: [String: String] {
        get throws {
            [
                "ORDERLY_AMQP_URL": "amqp://orderly:\(try value("ORDERLY_AMQP_PASSWORD_ORDERLY"))@127.0.0.1:\(port("rabbitmq"))/",
                "ORDERLY_DATABASE_URL": "postgresql://orderly:\(try value("ORDERLY_DB_PASSWORD_ORDERLY"))@127.0.0.1:\(port("postgres"))/orderly",
                "ORDERLY_INVENTORY_URL": url("inventory-service"),
            ]
        }
    }
}
