import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Postgres
import Synchronization
import TestSupport
import Testing

/// A whole Orderly installation for one suite: the five service processes, on free ports, with a
/// RabbitMQ virtual host and a PostgreSQL database of their own, so that nothing else on the
/// machine sees their queues or tables.
final class SystemUnderTest: Sendable {
    static let services = ["gateway-sim", "order-service", "payment-service", "inventory-service", "notification-service"]

    @TaskLocal static var current: SystemUnderTest?

    let vhost: String
    let database: String
    let amqpURL: String
    let databaseURL: String
    let ports: [String: Int]
    let workDirectory: URL
    let apiKey = "e2e-secret-key"
    let sagaDeadline: Duration
    private let processes = Mutex<[String: Process]>([:])

    var mailDirectory: URL { workDirectory.appendingPathComponent("mail") }

    private init(
        vhost: String, database: String, amqpURL: String, databaseURL: String, ports: [String: Int], workDirectory: URL, sagaDeadline: Duration
    ) {
        self.vhost = vhost
        self.database = database
        self.amqpURL = amqpURL
        self.databaseURL = databaseURL
        self.ports = ports
        self.workDirectory = workDirectory
        self.sagaDeadline = sagaDeadline
    }

    /// Creates the virtual host and the database, starts every service and waits until all are ready.
    static func start(sagaDeadline: Duration) async throws -> SystemUnderTest {
        let name = TestEnvironment.uniqueName("e2e")
        try DevScript.run("rabbitmqctl", "add_vhost", name)
        try DevScript.run("rabbitmqctl", "set_permissions", "-p", name, "guest", ".*", ".*", ".*")
        let admin = try PostgresPool.forTesting(size: 1)
        try await admin.execute("CREATE DATABASE \(identifier: name)")
        await admin.close()

        var amqp = URLComponents(string: TestEnvironment.amqpURL)!
        amqp.percentEncodedPath = "/" + name
        var database = URLComponents(string: TestEnvironment.databaseURL)!
        database.path = "/" + name
        let ports = Dictionary(uniqueKeysWithValues: try services.map { ($0, try freePort()) })
        let workDirectory = FileManager.default.temporaryDirectory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
        let system = SystemUnderTest(
            vhost: name, database: name, amqpURL: amqp.string!, databaseURL: database.string!, ports: ports,
            workDirectory: workDirectory, sagaDeadline: sagaDeadline
        )
        for service in services { try await system.launch(service) }
        return system
    }

    /// Stops every service gracefully, then removes the virtual host and the database.
    func stop() async {
        for service in Self.services.reversed() { terminate(service) }
        try? DevScript.run("rabbitmqctl", "delete_vhost", vhost)
        if let admin = try? PostgresPool.forTesting(size: 1) {
            _ = try? await admin.execute("DROP DATABASE IF EXISTS \(identifier: database) WITH (FORCE)")
            await admin.close()
        }
    }

    /// Starts one service and waits until its `/health/ready` answers 200.
    func launch(_ service: String) async throws {
        let process = Process()
        process.executableURL = Self.binDirectory.appendingPathComponent(service)
        var environment = ProcessInfo.processInfo.environment
        environment["ORDERLY_AMQP_URL"] = amqpURL
        environment["ORDERLY_DATABASE_URL"] = databaseURL
        environment["ORDERLY_HTTP_PORT"] = "\(ports[service]!)"
        environment["ORDERLY_GATEWAY_URL"] = "http://127.0.0.1:\(ports["gateway-sim"]!)"
        environment["ORDERLY_MAIL_DIR"] = mailDirectory.path
        environment["ORDERLY_API_KEYS"] = apiKey
        environment["ORDERLY_SAGA_DEADLINE_SECONDS"] = "\(sagaDeadline.components.seconds)"
        environment["ORDERLY_SIM_SLOW_SECONDS"] = "8"
        environment["ORDERLY_LOG_LEVEL"] = "info"
        process.environment = environment
        let log = workDirectory.appendingPathComponent("\(service).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        processes.withLock { $0[service] = process }
        let deadline = ContinuousClock.now + .seconds(60)
        while try await status("GET", service: service, path: "/health/ready") != 200 {
            guard process.isRunning else { throw LaunchError(service: service, log: log.path, reason: "exited with \(process.terminationStatus)") }
            guard ContinuousClock.now < deadline else { throw LaunchError(service: service, log: log.path, reason: "not ready within 60 s") }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// Kills a service the hard way (`SIGKILL`), as a crash would.
    func kill(_ service: String) { terminate(service, signal: SIGKILL) }

    /// Stops a service with `SIGTERM` and returns how it exited and how long it took, or `nil` if it was not running.
    @discardableResult
    func terminate(_ service: String, signal: Int32 = SIGTERM) -> (status: Int32, reason: Process.TerminationReason, took: Duration)? {
        guard let process = processes.withLock({ $0.removeValue(forKey: service) }), process.isRunning else { return nil }
        let start = ContinuousClock.now
        Glibc.kill(process.processIdentifier, signal)
        process.waitUntilExit()
        return (process.terminationStatus, process.terminationReason, ContinuousClock.now - start)
    }

    /// The answer of a service's `/health/ready`: its status and body.
    func readiness(_ service: String) async -> (status: Int, body: String)? {
        guard let response = try? await request(.GET, service: service, path: "/health/ready", headers: [], authenticated: false) else { return nil }
        return (response.status, String(decoding: response.body, as: UTF8.self))
    }

    // MARK: HTTP

    func url(_ service: String, _ path: String) -> String { "http://127.0.0.1:\(ports[service]!)\(path)" }

    /// Sends a request and returns the status, headers and body.
    func request(
        _ method: HTTPMethod, service: String = "order-service", path: String, body: String? = nil,
        headers: [(String, String)] = [("Content-Type", "application/json")], authenticated: Bool = true
    ) async throws -> (status: Int, headers: HTTPHeaders, body: Data) {
        var request = HTTPClientRequest(url: url(service, path))
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if authenticated { request.headers.add(name: "X-API-Key", value: apiKey) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let data = try await response.body.collect(upTo: 16 << 20)
        return (Int(response.status.code), response.headers, Data(buffer: data))
    }

    private func status(_ method: String, service: String, path: String) async throws -> Int? {
        try? await request(HTTPMethod(rawValue: method), service: service, path: path, headers: [], authenticated: false).status
    }

    static var binDirectory: URL {
        if let path = ProcessInfo.processInfo.environment["ORDERLY_BIN_DIR"] { return URL(fileURLWithPath: path) }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug")
    }

    /// A port nobody listens on right now.
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sockaddr in
                bind(descriptor, sockaddr, length) == 0 && getsockname(descriptor, sockaddr, &length) == 0
            }
        }
        guard bound else { throw LaunchError(service: "-", log: "-", reason: "no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    struct LaunchError: Error, CustomStringConvertible {
        var service: String
        var log: String
        var reason: String
        var description: String { "\(service) \(reason); its log: \(log)" }
    }
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
