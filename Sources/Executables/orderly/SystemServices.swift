import ArgumentParser
import Contracts
import Foundation
import LocalRun
import Provisioning
import Supervision

/// Where `./infra/dev` keeps an installation and where its brokers listen: the options of the commands
/// that run it (`orderly system start`, `stop`, `restart`, `status`, `operator-env`...). infra/dev passes
/// `--data`, and `--rabbit-nodes` and `--replicas` when it was given them; the rest comes from the
/// environment, or from what runs.
struct InstallationOptions: ParsableArguments {
    @Option(help: "The installation's data folder.")
    var data = Environment.value("ORDERLY_DATA_DIR") ?? ".data"

    @Option(
        name: .customLong("amqp-port"),
        help: "RabbitMQ node 1's AMQP port on 127.0.0.1 (default: ORDERLY_AMQP_PORT, else where it runs, else 5672); node K's is K-1 above.")
    var givenAMQPPort: Int?

    @Option(
        name: .customLong("rabbit-nodes"),
        help: "RabbitMQ nodes, 1 to 9 (default: ORDERLY_RABBIT_NODES, else the cluster the data folder holds, else 1).")
    var givenRabbitNodes: Int?

    @Option(name: .customLong("pg-port"), help: "PostgreSQL's port on 127.0.0.1 (default: ORDERLY_PG_PORT, else where it runs, else 5432).")
    var givenPGPort: Int?

    @Option(
        name: .customLong("http-port-base"),
        help: "Where order-service listens (default: ORDERLY_HTTP_PORT_BASE, else where the running services were started, else 8080).")
    var givenHTTPPortBase: Int?

    @Option(
        name: .customLong("replicas"),
        help: "Instances of each service that consumes, 1 to 9 (default: ORDERLY_REPLICAS, else as many as the last start of all).")
    var givenReplicas: Int?

    static let numbers = ["ORDERLY_AMQP_PORT", "ORDERLY_PG_PORT", "ORDERLY_RABBIT_NODES", "ORDERLY_HTTP_PORT_BASE", "ORDERLY_REPLICAS"]

    /// A number from the environment; an empty value counts as unset.
    static func number(_ name: String) -> Int? { Environment.value(name).flatMap { Int($0) } }

    var dataDirectory: URL { URL(fileURLWithPath: data).standardizedFileURL }
    var httpPortBase: Int? { givenHTTPPortBase ?? Self.number("ORDERLY_HTTP_PORT_BASE") }
    var replicas: Int? { givenReplicas ?? Self.number("ORDERLY_REPLICAS") }
    var readyTimeout: Duration { .seconds(Self.number("ORDERLY_READY_TIMEOUT") ?? 120) }

    func validate() throws {
        for name in Self.numbers {
            if let text = Environment.value(name), !text.isEmpty, Int(text) == nil {
                throw ValidationError("\(name) must be a number, not '\(text)'")
            }
        }
        if let httpPortBase, !(1...65525).contains(httpPortBase) {
            throw ValidationError("ORDERLY_HTTP_PORT_BASE must be a port from 1 to 65525, not '\(httpPortBase)'")
        }
        if let replicas, !(1...9).contains(replicas) {
            throw ValidationError("--replicas (ORDERLY_REPLICAS) must be a number from 1 to 9, not '\(replicas)'")
        }
    }

    /// RabbitMQ node 1's port: as given, else the one it runs on, else 5672. With `choosingFreePorts`, a port
    /// another process holds (another checkout) is passed over for the next free one, as `./infra/dev test` wants.
    private func amqpPort(choosingFreePorts: Bool = false) throws -> Int {
        if let port = givenAMQPPort ?? Self.number("ORDERLY_AMQP_PORT") { return port }
        if let running = RabbitMQNodes.runningPort(in: dataDirectory) { return running }
        return try Self.free(5672, offsets: [0, 20000], choosing: choosingFreePorts)
    }

    private func pgPort(choosingFreePorts: Bool = false) throws -> Int {
        if let port = givenPGPort ?? Self.number("ORDERLY_PG_PORT") { return port }
        if let running = PostgresServer.runningPort(in: dataDirectory) { return running }
        return try Self.free(5432, offsets: [0], choosing: choosingFreePorts)
    }

    private static func free(_ port: Int, offsets: [Int], choosing: Bool) throws -> Int {
        guard choosing, offsets.contains(where: { LocalMachine.isListening(port + $0) }) else { return port }
        guard let free = (port + 1..<port + 100).first(where: { candidate in offsets.allSatisfy { !LocalMachine.isListening(candidate + $0) } })
        else { throw ValidationError("no free port near \(port)") }
        Console().note("port \(port) is held by another process (another checkout?); this run uses \(free)")
        return free
    }

    /// How many RabbitMQ nodes: as asked, else the cluster the data folder holds. A cluster does not shrink.
    var rabbitNodes: Int {
        get throws {
            let recorded = RabbitMQNodes.recordedCount(in: dataDirectory)
            guard let asked = givenRabbitNodes ?? Self.number("ORDERLY_RABBIT_NODES") else { return recorded }
            guard (1...9).contains(asked) else {
                throw ValidationError("--rabbit-nodes (ORDERLY_RABBIT_NODES) must be a number from 1 to 9, not '\(asked)'")
            }
            guard asked >= recorded else {
                throw ValidationError(
                    "\(data) holds a RabbitMQ cluster of \(recorded) nodes, not \(asked): './infra/dev down', then remove \(data)/rabbitmq* to start afresh with fewer"
                )
            }
            return asked
        }
    }

    /// The installation's processes, their ports resolved once: RabbitMQ's nodes, PostgreSQL, and the
    /// services (run from the executables next to this one), which reach those brokers.
    func resolve(choosingFreePorts: Bool = false) throws -> LocalInstallation {
        let rabbitmq = RabbitMQNodes(
            dataDirectory: dataDirectory, amqpPort: try amqpPort(choosingFreePorts: choosingFreePorts),
            distributionPort: Self.number("ORDERLY_RABBITMQ_DIST_PORT"), count: try rabbitNodes, readyTimeout: readyTimeout)
        let repository = LocalInfrastructure.find(near: LocalSystemOptions.ownDirectory).map {
            URL(fileURLWithPath: $0.script).deletingLastPathComponent().deletingLastPathComponent()
        }
        let postgres = PostgresServer(
            dataDirectory: dataDirectory, port: try pgPort(choosingFreePorts: choosingFreePorts), readyTimeout: readyTimeout,
            tuning: repository?.appendingPathComponent("infra/postgres/tuning.conf"))
        let services = LocalServices(
            dataDirectory: dataDirectory, binDirectory: LocalSystemOptions.ownDirectory, amqpPorts: rabbitmq.nodes.map(\.amqpPort),
            databasePort: postgres.port, httpPortBase: httpPortBase, replicas: replicas, readyTimeout: readyTimeout)
        let highest = services.layout.instances.map(services.layout.port(of:)).max() ?? 0
        guard highest <= 65535 else {
            throw ValidationError("\(services.layout.replicas) instances of each service need ports up to \(highest); lower ORDERLY_HTTP_PORT_BASE")
        }
        return LocalInstallation(rabbitmq: rabbitmq, postgres: postgres, services: services)
    }
}

/// What `./infra/dev` runs in one data folder, as ``InstallationOptions`` resolved it.
struct LocalInstallation {
    var rabbitmq: RabbitMQNodes
    var postgres: PostgresServer
    var services: LocalServices

    /// What a name given to start, stop or restart stands for.
    enum Target {
        case rabbitmq([RabbitMQNodes.Node])
        case postgres
        case instances([ServiceInstance])
    }

    /// `rabbitmq` (every node), `rabbitmq-K` or a node's Erlang name, `postgres`, a service (every instance
    /// the layout runs, and any other there is) or an instance.
    func target(_ name: String) throws -> Target {
        if name == "rabbitmq" { return .rabbitmq(rabbitmq.nodes) }
        if let node = rabbitmq.node(named: name) { return .rabbitmq([node]) }
        if name == "postgres" { return .postgres }
        let named = try services.instances(named: name)
        guard !name.contains("#") else { return .instances(named) }
        return .instances(Set(named + services.layout.instances.filter { $0.service == name }).sorted())
    }
}

extension SystemCommand {
    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start RabbitMQ, PostgreSQL or services of the installation and wait until they are ready.",
            discussion: """
                NAME is rabbitmq (every node), rabbitmq-K or a node's Erlang name, postgres, a service (every instance \
                of it) or one instance (order-service#2); each service instance runs under a supervisor. Without NAME, \
                every instance of every service, after stopping those beyond --replicas. What runs is left as it is.
                """
        )
        @OptionGroup var installation: InstallationOptions
        @Flag(help: "Start the brokers on the next free ports when theirs are held by another process (as ./infra/dev test does).")
        var freePorts = false
        @Argument(help: "What to start.") var names: [String] = []

        func run() async throws {
            let local = try installation.resolve(choosingFreePorts: freePorts)
            guard !names.isEmpty else { return try await local.services.startAll() }
            for name in names {
                switch try local.target(name) {
                case .rabbitmq(let nodes): try await local.rabbitmq.start(nodes.map(\.index))
                case .postgres: try await local.postgres.start(secrets: local.services.secrets)
                case .instances(let instances): for instance in instances { try await local.services.start(instance) }
                }
            }
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop RabbitMQ, PostgreSQL or services of the installation (every service without NAME), each service draining first.")
        @OptionGroup var installation: InstallationOptions
        @Argument(help: "What to stop.") var names: [String] = []

        func run() async throws {
            let local = try installation.resolve()
            guard !names.isEmpty else { return await local.services.stopAll() }
            for name in names {
                switch try local.target(name) {
                case .rabbitmq(let nodes): for node in nodes.reversed() { try await local.rabbitmq.stop(node) }
                case .postgres: try await local.postgres.stop()
                case .instances(let instances): for instance in instances.reversed() { await local.services.stop(instance) }
                }
            }
        }
    }

    struct Restart: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop, then start; a service's instances one at a time, so that the others go on taking its messages meanwhile.")
        @OptionGroup var installation: InstallationOptions
        @Argument(help: "What to restart.") var name: String

        func run() async throws {
            let local = try installation.resolve()
            switch try local.target(name) {
            case .rabbitmq(let nodes):
                for node in nodes.reversed() { try await local.rabbitmq.stop(node) }
                try await local.rabbitmq.start(nodes.map(\.index))
            case .postgres:
                try await local.postgres.stop()
                try await local.postgres.start(secrets: local.services.secrets)
            case .instances(let instances):
                for instance in instances {
                    await local.services.stop(instance)
                    try await local.services.start(instance)
                }
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Say what runs of the installation, with its URL.")
        @OptionGroup var installation: InstallationOptions
        @Flag(help: "Only the services' instances.") var servicesOnly = false

        func run() async throws {
            let width = 23
            let local = try installation.resolve()
            if !servicesOnly {
                let user = SystemCatalog.brokerOperator.name
                for line in local.rabbitmq.statusLines(operator: user, nameWidth: width) { print(line) }
                print(local.postgres.statusLine(operator: user, nameWidth: width))
            }
            for line in await local.services.statusLines(nameWidth: width) { print(line) }
        }
    }

    struct Ports: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the brokers' ports, as ORDERLY_AMQP_PORT and ORDERLY_PG_PORT lines: where they run, else where they would.")
        @OptionGroup var installation: InstallationOptions

        func run() throws {
            let local = try installation.resolve()
            print("ORDERLY_AMQP_PORT=\(local.rabbitmq.amqpPort)")
            print("ORDERLY_PG_PORT=\(local.postgres.port)")
        }
    }

    struct LogFiles: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "log-files", abstract: "Print the paths of the logs of NAME (as start takes it), or of everything.")
        @OptionGroup var installation: InstallationOptions
        @Argument(help: "Whose logs.") var names: [String] = []

        func run() throws {
            let local = try installation.resolve()
            var files: [URL] = []
            for name in names.isEmpty ? ["rabbitmq", "postgres"] + SystemCatalog.all.map(\.name) : names {
                switch try local.target(name) {
                case .rabbitmq(let nodes): files += nodes.flatMap(\.logs)
                case .postgres: files.append(local.postgres.log)
                case .instances(let instances): files += instances.map { local.services.directory.appendingPathComponent("\($0).log") }
                }
            }
            for file in files where FileManager.default.fileExists(atPath: file.path) { print(file.path) }
        }
    }

    struct RabbitMQCtl: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rabbitmqctl", abstract: "Run rabbitmqctl against the installation's node (on a cluster, the first that runs).")
        @OptionGroup var installation: InstallationOptions
        @Argument(parsing: .postTerminator, help: "rabbitmqctl's arguments, after --.") var arguments: [String] = []

        func run() throws { try installation.resolve().rabbitmq.execControl(arguments) }
    }

    struct PSQL: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "psql", abstract: "Open psql on the installation's database as the operator.")
        @OptionGroup var installation: InstallationOptions
        @Argument(parsing: .postTerminator, help: "psql's arguments, after --.") var arguments: [String] = []

        func run() throws {
            let local = try installation.resolve()
            let url = try Credentials(secrets: local.services.secrets).databaseURL(
                role: SystemCatalog.databaseOperator.name, base: local.services.layout.databaseURL)
            try local.postgres.execPSQL(url: url, arguments)
        }
    }

    struct OperatorEnv: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "operator-env",
            abstract: "Print what the operator's CLI reads when its variables are not set (infra/dev writes it to secrets/operator.env).",
            discussion: """
                The operator's logins to the installation's broker (every node of a cluster, in the failover list) and \
                database, each service's URL and the two HTTP keys; the operator's passwords and the keys are made in \
                the secrets folder when missing.
                """
        )
        @OptionGroup var installation: InstallationOptions

        func run() throws {
            let services = try installation.resolve().services
            let store = services.secrets
            let credentials = Credentials(secrets: store)
            _ = try store.secret(SecretStore.brokerPasswordName(SystemCatalog.brokerOperator.name))
            _ = try store.secret(SecretStore.databasePasswordName(SystemCatalog.databaseOperator.name))
            let environment = ServiceEnvironment(
                amqpURL: services.layout.amqpURL(), databaseURL: services.layout.databaseURL, ports: services.layout.servicePorts,
                mailDirectory: "", apiKey: try store.secret(SecretStore.apiKeyName), adminKey: try store.secret(SecretStore.adminKeyName))
            print("# Written by infra/dev up: the operator's logins to this checkout's brokers, and the HTTP keys.")
            print("ORDERLY_AMQP_URL=\(try credentials.amqpURL(user: SystemCatalog.brokerOperator.name, base: environment.amqpURL))")
            print("ORDERLY_DATABASE_URL=\(try credentials.databaseURL(role: SystemCatalog.databaseOperator.name, base: environment.databaseURL))")
            for variable in try environment.variables(of: SystemCatalog.order, port: SystemCatalog.order.httpPort)
            where variable.name.hasSuffix("_URL") && variable.value.hasPrefix("http") {
                print("\(variable.name)=\(variable.value)")
            }
            print("ORDERLY_API_KEY=\(environment.apiKey ?? "")")
            print("ORDERLY_ADMIN_KEY=\(environment.adminKey ?? "")")
        }
    }

}
