import AMQP
import AsyncHTTPClient
import Contracts
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Postgres
import Provisioning
import Synchronization
import Timing

/// A whole Orderly installation as processes on this machine: every service (and, with replicas,
/// several instances of each) on free ports, in a RabbitMQ virtual host and a PostgreSQL database of
/// its own, so that nothing else on the machine sees its queues or tables.
///
/// With ``Configuration/secrets`` (as `./infra/dev` provisions them), each service logs in as its own
/// RabbitMQ user and PostgreSQL role, as in production: the virtual host gets the catalog's
/// permissions and topology, and the database each service's schema, owned by its role alone.
/// Without, every service logs in with the administrative URLs the system was given.
///
/// Instances are started, killed, terminated and started again by name; each writes its log under
/// ``workDirectory``.
package final class LocalSystem: Sendable {
    package typealias Instance = ServiceInstance

    /// How the system is set up.
    package struct Configuration: Sendable {
        /// Where the service executables are.
        package var binDirectory: URL
        /// The broker and database to use; the system makes its own virtual host and database on them.
        package var amqpURL: String
        package var databaseURL: String
        /// Instances of each service that consumes (the gateway simulator always runs once).
        package var replicas: Int = 1
        package var sagaDeadline: Duration = .seconds(300)
        /// How long `tok_slow` makes the gateway take.
        package var gatewaySlowness: Duration = .seconds(8)
        package var apiKey: String? = "chaos-secret"
        /// The key of the services' administrative routes (`ORDERLY_ADMIN_KEYS`).
        package var adminKey: String? = "chaos-admin"
        /// The secrets of the installation whose brokers the system runs on; when set, each service
        /// logs in as its own broker user and database role (provisioned there already).
        package var secrets: SecretStore?
        package var logLevel: String = "info"
        /// More variables for every instance.
        package var environment: [String: String] = [:]

        package init(binDirectory: URL, amqpURL: String, databaseURL: String) {
            self.binDirectory = binDirectory
            self.amqpURL = amqpURL
            self.databaseURL = databaseURL
        }
    }

    package let name: String
    package let configuration: Configuration
    package let infrastructure: LocalInfrastructure
    package let workDirectory: URL
    /// The system's own broker and database.
    package let amqpURL: String
    package let databaseURL: String
    package let instances: [Instance]
    private let ports: [Instance: Int]
    private let processes = Mutex<[Instance: Process]>([:])

    package var mailDirectory: URL { workDirectory.appendingPathComponent("mail") }

    private init(name: String, configuration: Configuration, infrastructure: LocalInfrastructure, workDirectory: URL, ports: [Instance: Int]) {
        self.name = name
        self.configuration = configuration
        self.infrastructure = infrastructure
        self.workDirectory = workDirectory
        self.ports = ports
        self.instances = SystemCatalog.all.flatMap { service in
            (1...(service.isReplicable ? configuration.replicas : 1)).map { Instance(service.name, replica: $0) }
        }
        var amqp = URLComponents(string: AMQPConfiguration.singleHostURL(configuration.amqpURL))!
        amqp.percentEncodedPath = "/" + name
        amqpURL = amqp.string!
        var database = URLComponents(string: configuration.databaseURL)!
        database.path = "/" + name
        databaseURL = database.string!
    }

    /// Makes the virtual host and the database, starts every instance, and waits until all are ready.
    package static func start(named name: String, configuration: Configuration, infrastructure: LocalInfrastructure, logger: Logger)
        async throws -> LocalSystem
    {
        try brokerAdministration.withLock { _ in try infrastructure.rabbitmqctl("add_vhost", name) }
        let admin = PostgresPool(configuration: try PostgresConfiguration(url: configuration.databaseURL), size: 1, logger: logger)
        defer { Task { await admin.close() } }
        try await admin.execute("CREATE DATABASE \(identifier: name)")

        var ports: [Instance: Int] = [:]
        for service in SystemCatalog.all {
            for replica in 1...(service.isReplicable ? configuration.replicas : 1) {
                ports[Instance(service.name, replica: replica)] = try freePort()
            }
        }
        let workDirectory = FileManager.default.temporaryDirectory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
        let system = LocalSystem(
            name: name, configuration: configuration, infrastructure: infrastructure, workDirectory: workDirectory, ports: ports)
        try system.provisionBroker()
        if let secrets = configuration.secrets {
            try await Provisioner(secrets: secrets).provisionDatabase(adminURL: system.databaseURL, roles: false, logger: logger)
        }
        for instance in system.instances { try await system.launch(instance) }
        return system
    }

    /// Gives the administrative user every permission on the system's virtual host and, with
    /// ``Configuration/secrets``, each service's user its permissions from the catalog, and declares
    /// the topology there. Idempotent: a test that deleted and added the virtual host again calls it.
    package func provisionBroker() throws {
        // RabbitMQ 3.10 can wedge when definitions are imported into several virtual hosts at once (as
        // suites that start their systems together would do): one import at a time per process.
        try Self.brokerAdministration.withLock { _ in try provisionBrokerNow() }
    }

    /// Serializes what this process asks of `rabbitmqctl` about virtual hosts.
    static let brokerAdministration = Mutex(())

    private func provisionBrokerNow() throws {
        let user = URLComponents(string: amqpURL)?.user ?? "guest"
        try infrastructure.rabbitmqctl("set_permissions", "-p", name, user, ".*", ".*", ".*")
        guard let secrets = configuration.secrets else { return }
        let infrastructure = self.infrastructure
        try Provisioner(secrets: secrets).provisionBroker(virtualHost: name, scope: .virtualHostOnly) { arguments, input in
            try infrastructure.rabbitmqctl(arguments, input: input)
        }
    }

    /// What every instance starts with, as `./infra/dev up` starts them: its own user and role with
    /// ``Configuration/secrets`` (else the system's), the first instance of each service as its peers.
    package var serviceEnvironment: ServiceEnvironment {
        let firstInstances = SystemCatalog.all.compactMap { service in ports[Instance(service.name)].map { (service.name, $0) } }
        return ServiceEnvironment(
            amqpURL: amqpURL, databaseURL: databaseURL, ports: Dictionary(uniqueKeysWithValues: firstInstances),
            mailDirectory: mailDirectory.path, apiKey: configuration.apiKey, adminKey: configuration.adminKey, secrets: configuration.secrets)
    }

    /// Stops every instance gracefully, then removes the virtual host and the database.
    package func stop(logger: Logger) async {
        for instance in instances.reversed() { terminate(instance) }
        Self.brokerAdministration.withLock { _ in _ = try? infrastructure.rabbitmqctl("delete_vhost", name) }
        if let admin = try? PostgresPool(configuration: PostgresConfiguration(url: configuration.databaseURL), size: 1, logger: logger) {
            _ = try? await admin.execute("DROP DATABASE IF EXISTS \(identifier: name) WITH (FORCE)")
            await admin.close()
        }
    }

    package func port(of instance: Instance) -> Int { ports[instance]! }

    /// The instances of one service.
    package func instances(of service: String) -> [Instance] { instances.filter { $0.service == service } }

    /// Whether the instance's process runs.
    package func isRunning(_ instance: Instance) -> Bool { processes.withLock { $0[instance]?.isRunning ?? false } }

    /// The process id of a running instance.
    package func pid(of instance: Instance) -> Int32? {
        processes.withLock { $0[instance].flatMap { $0.isRunning ? $0.processIdentifier : nil } }
    }

    /// The log of an instance.
    package func log(of instance: Instance) -> URL { workDirectory.appendingPathComponent("\(instance).log") }

    // MARK: Processes

    /// Starts an instance and waits until its `/health/ready` answers 200.
    package func launch(_ instance: Instance, readyWithin timeout: Duration = .seconds(90)) async throws {
        let process = Process()
        process.executableURL = configuration.binDirectory.appendingPathComponent(instance.service)
        var environment = ProcessInfo.processInfo.environment
        guard let descriptor = SystemCatalog.service(named: instance.service) else {
            throw LaunchError(instance: instance, log: "-", reason: "it is not a service of the catalog")
        }
        for variable in try serviceEnvironment.variables(of: descriptor, port: port(of: instance)) { environment[variable.name] = variable.value }
        environment["ORDERLY_SAGA_DEADLINE_SECONDS"] = "\(configuration.sagaDeadline.components.seconds)"
        environment["ORDERLY_SIM_SLOW_SECONDS"] = "\(configuration.gatewaySlowness.components.seconds)"
        environment["ORDERLY_LOG_LEVEL"] = configuration.logLevel
        environment.merge(configuration.environment) { _, own in own }
        process.environment = environment
        let log = self.log(of: instance)
        if !FileManager.default.fileExists(atPath: log.path) { _ = FileManager.default.createFile(atPath: log.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? handle.close()
        processes.withLock { $0[instance] = process }
        let deadline = ContinuousClock.now + timeout
        while await readiness(instance)?.status != 200 {
            guard process.isRunning else {
                throw LaunchError(instance: instance, log: log.path, reason: "exited with status \(process.terminationStatus)")
            }
            guard ContinuousClock.now < deadline else { throw LaunchError(instance: instance, log: log.path, reason: "not ready within \(timeout)") }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// Kills an instance the hard way (`SIGKILL`), as a crash would.
    package func kill(_ instance: Instance) { terminate(instance, signal: SIGKILL) }

    /// Sends `signal` (by default `SIGTERM`) and waits for the process to end: how it ended and how long it took,
    /// or `nil` if it was not running.
    @discardableResult
    package func terminate(_ instance: Instance, signal: Int32 = SIGTERM) -> Termination? {
        guard let process = processes.withLock({ $0.removeValue(forKey: instance) }), process.isRunning else { return nil }
        let start = ContinuousClock.now
        Glibc.kill(process.processIdentifier, signal)
        process.waitUntilExit()
        return Termination(
            status: process.terminationStatus, bySignal: process.terminationReason == .uncaughtSignal, took: ContinuousClock.now - start)
    }

    /// How a process ended.
    package struct Termination: Sendable, Hashable, CustomStringConvertible {
        package var status: Int32
        package var bySignal: Bool
        package var took: Duration

        /// Exited by itself with status 0.
        package var isClean: Bool { !bySignal && status == 0 }
        package var description: String { bySignal ? "killed by signal \(status) after \(took)" : "exited with \(status) after \(took)" }
    }

    // MARK: HTTP

    /// The base URL of an instance.
    package func url(_ instance: Instance) -> String { "http://127.0.0.1:\(port(of: instance))" }

    /// Sends a request to an instance and returns the status, headers and body.
    package func request(
        _ method: HTTPMethod, to instance: Instance, path: String, body: String? = nil, headers: [(String, String)] = [],
        authenticated: Bool = true, timeout: Duration = .seconds(30)
    ) async throws -> ServiceHTTP.Answer {
        try await ServiceHTTP.send(
            method, to: url(instance), path: path, body: body, headers: headers, apiKey: authenticated ? configuration.apiKey : nil,
            timeout: timeout)
    }

    /// The answer of an instance's `/health/ready`, or `nil` when it does not answer.
    package func readiness(_ instance: Instance) async -> (status: Int, body: String)? {
        guard let response = try? await request(.GET, to: instance, path: "/health/ready", timeout: .seconds(5)) else { return nil }
        return (response.status, String(decoding: response.body, as: UTF8.self))
    }

    /// A connection to the system's virtual host, for `body`.
    package func withBroker<T>(logger: Logger, _ body: (AMQPConnection) async throws -> T) async throws -> T {
        var configuration = try AMQPConfiguration(url: amqpURL)
        configuration.connectionName = "chaos"
        return try await AMQPConnection.withConnection(configuration: configuration, logger: logger, body)
    }

    /// A pool on the system's database, for `body`.
    package func withDatabase<T>(logger: Logger, _ body: (PostgresPool) async throws -> T) async throws -> T {
        var configuration = try PostgresConfiguration(url: databaseURL)
        configuration.applicationName = "chaos"
        let pool = PostgresPool(configuration: configuration, size: 2, logger: logger)
        do {
            let result = try await body(pool)
            await pool.close()
            return result
        } catch {
            await pool.close()
            throw error
        }
    }

    /// A port nobody listens on right now.
    package static func freePort() throws -> Int {
        let port = Loopback.withSocket(port: 0) { socket, address, length in
            bind(socket, address, length.pointee) == 0 && getsockname(socket, address, length) == 0
                ? Int(UInt16(bigEndian: address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_port })) : nil
        }
        guard let port else { throw LaunchError(instance: Instance("-"), log: "-", reason: "no free port") }
        return port
    }

    /// An instance did not start.
    package struct LaunchError: Error, CustomStringConvertible {
        package var instance: Instance
        package var log: String
        package var reason: String
        package var description: String { "\(instance) \(reason); its log: \(log)" }
    }
}
