import AsyncHTTPClient
import Foundation
import LocalRun
import Logging
import NIOHTTP1
import TestSupport
import Testing

/// A whole Orderly installation for one suite (``LocalSystem``): the five service processes, on free
/// ports, with a RabbitMQ virtual host and a PostgreSQL database of their own, addressed by service name.
final class SystemUnderTest: Sendable {
    @TaskLocal static var current: SystemUnderTest?

    let local: LocalSystem
    var vhost: String { local.name }
    var database: String { local.name }
    var amqpURL: String { local.amqpURL }
    var databaseURL: String { local.databaseURL }
    var mailDirectory: URL { local.mailDirectory }

    private init(local: LocalSystem) { self.local = local }

    /// Creates the virtual host and the database, starts every service and waits until all are ready.
    static func start(sagaDeadline: Duration) async throws -> SystemUnderTest {
        var configuration = LocalSystem.Configuration(
            binDirectory: TestEnvironment.binDirectory, amqpURL: TestEnvironment.amqpURL, databaseURL: TestEnvironment.databaseURL)
        configuration.sagaDeadline = sagaDeadline
        // Every service logs in as its own broker user and database role, as ./infra/dev up runs them.
        configuration.secrets = TestEnvironment.secrets
        // The services' own default, whatever the environment running the tests says: the suites read these logs.
        configuration.environment["ORDERLY_LOG_FORMAT"] = "json"
        let local = try await LocalSystem.start(
            named: TestEnvironment.uniqueName("e2e"), configuration: configuration, infrastructure: TestEnvironment.infrastructure,
            logger: TestEnvironment.logger("e2e"))
        return SystemUnderTest(local: local)
    }

    /// Stops every service gracefully, then removes the virtual host and the database.
    func stop() async { await local.stop(logger: TestEnvironment.logger("e2e")) }

    /// Starts one service and waits until its `/health/ready` answers 200.
    func launch(_ service: String) async throws { try await local.launch(LocalSystem.Instance(service)) }

    /// Kills a service the hard way (`SIGKILL`), as a crash would.
    func kill(_ service: String) { local.kill(LocalSystem.Instance(service)) }

    /// Stops a service with `SIGTERM` and returns how it ended, or `nil` if it was not running.
    @discardableResult
    func terminate(_ service: String) -> LocalSystem.Termination? { local.terminate(LocalSystem.Instance(service)) }

    /// The keys the services run with: the intake's (`ORDERLY_API_KEYS`) and the administrative routes' (`ORDERLY_ADMIN_KEYS`).
    var apiKey: String? { local.configuration.apiKey }
    var adminKey: String? { local.configuration.adminKey }

    /// The answer of a service's `/health/ready`: its status and body.
    func readiness(_ service: String) async -> (status: Int, body: String)? { await local.readiness(LocalSystem.Instance(service)) }

    /// Sends a request and returns the status, headers and body.
    func request(
        _ method: HTTPMethod, service: String = "order-service", path: String, body: String? = nil,
        headers: [(String, String)] = [("Content-Type", "application/json")], authenticated: Bool = true
    ) async throws -> (status: Int, headers: HTTPHeaders, body: Data) {
        try await local.request(method, to: LocalSystem.Instance(service), path: path, body: body, headers: headers, authenticated: authenticated)
    }

    static var binDirectory: URL { TestEnvironment.binDirectory }

    /// A port nobody listens on right now.
    static func freePort() throws -> Int { try LocalSystem.freePort() }
}

/// Runs a suite against one ``SystemUnderTest``, started before its first test and stopped after its last.
struct RunningSystem: SuiteTrait, TestScoping {
    var sagaDeadline: Duration
    var isRecursive: Bool { false }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let system = try await SystemUnderTest.start(sagaDeadline: sagaDeadline)
        do {
            try await SystemUnderTest.$current.withValue(system) { try await function() }
        } catch {
            await system.stop()
            throw error
        }
        await system.stop()
    }
}

extension Trait where Self == RunningSystem {
    /// The suite runs against a whole system of its own; non-terminal orders are cancelled after `sagaDeadline`.
    static func runningSystem(sagaDeadline: Duration = .seconds(60)) -> Self { RunningSystem(sagaDeadline: sagaDeadline) }
}
