import ArgumentParser
import Contracts
import Foundation
import LocalRun
import Provisioning
import Supervision

/// Where `./infra/dev` keeps an installation and where its brokers listen: the options of the commands
/// that run its services (`orderly system start`, `stop`, `status`, `operator-env`). infra/dev passes them.
struct InstallationOptions: ParsableArguments {
    @Option(help: "The installation's data folder.")
    var data = Environment.value("ORDERLY_DATA_DIR") ?? ".data"

    @Option(help: "RabbitMQ node 1's AMQP port on 127.0.0.1; node K listens on this plus K-1.")
    var amqpPort = Environment.value("ORDERLY_AMQP_PORT").flatMap(Int.init) ?? 5672

    @Option(help: "RabbitMQ nodes.")
    var rabbitNodes = 1

    @Option(help: "PostgreSQL's port on 127.0.0.1.")
    var pgPort = Environment.value("ORDERLY_PG_PORT").flatMap(Int.init) ?? 5432

    @Option(
        name: .customLong("http-port-base"),
        help: "Where order-service listens (default: ORDERLY_HTTP_PORT_BASE, else where the running services were started, else 8080).")
    var givenHTTPPortBase: Int?

    @Option(
        name: .customLong("replicas"),
        help: "Instances of each service that consumes, 1 to 9 (default: ORDERLY_REPLICAS, else as many as the last start of all).")
    var givenReplicas: Int?

    var httpPortBase: Int? { givenHTTPPortBase ?? Environment.value("ORDERLY_HTTP_PORT_BASE").flatMap(Int.init) }
    var replicas: Int? { givenReplicas ?? Environment.value("ORDERLY_REPLICAS").flatMap(Int.init) }

    func validate() throws {
        if let httpPortBase, !(1...65525).contains(httpPortBase) {
            throw ValidationError("ORDERLY_HTTP_PORT_BASE must be a port from 1 to 65525, not '\(httpPortBase)'")
        }
        if let replicas, !(1...9).contains(replicas) {
            throw ValidationError("--replicas (ORDERLY_REPLICAS) must be a number from 1 to 9, not '\(replicas)'")
        }
    }

    /// The services of the installation, run from the executables next to this one.
    var services: LocalServices {
        get throws {
            let timeout = Environment.value("ORDERLY_READY_TIMEOUT").flatMap(Int.init) ?? 120
            let services = LocalServices(
                dataDirectory: URL(fileURLWithPath: data).standardizedFileURL, binDirectory: LocalSystemOptions.ownDirectory,
                amqpPorts: (0..<max(rabbitNodes, 1)).map { amqpPort + $0 }, databasePort: pgPort, httpPortBase: httpPortBase,
                replicas: replicas, readyTimeout: .seconds(timeout))
            let highest = services.layout.instances.map(services.layout.port(of:)).max() ?? 0
            guard highest <= 65535 else {
                throw ValidationError(
                    "\(services.layout.replicas) instances of each service need ports up to \(highest); lower ORDERLY_HTTP_PORT_BASE")
            }
            return services
        }
    }
}

extension SystemCommand {
    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start services of the installation, each instance under a supervisor, and wait until they are ready.",
            discussion: """
                NAME is a service (every instance of it) or one instance (order-service#2). Without NAME, every instance \
                of every service, after stopping those beyond --replicas. A running instance is left as it is.
                """
        )
        @OptionGroup var installation: InstallationOptions
        @Argument(help: "Services or instances.") var names: [String] = []

        func run() async throws {
            let services = try installation.services
            guard !names.isEmpty else { return try await services.startAll() }
            for name in names {
                let named = try services.instances(named: name)
                let wanted = name.contains("#") ? named : services.layout.instances.filter { $0.service == named.first?.service ?? name }
                for instance in wanted { try await services.start(instance) }
            }
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop services of the installation (every one without NAME), letting each drain first.")
        @OptionGroup var installation: InstallationOptions
        @Argument(help: "Services or instances.") var names: [String] = []

        func run() async throws {
            let services = try installation.services
            guard !names.isEmpty else { return await services.stopAll() }
            for name in names {
                for instance in try services.instances(named: name).reversed() { await services.stop(instance) }
            }
        }
    }

    struct Restart: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop, then start, each instance of NAME in turn, so that the others go on taking its messages meanwhile.")
        @OptionGroup var installation: InstallationOptions
        @Argument(help: "A service or an instance.") var name: String

        func run() async throws {
            let services = try installation.services
            let named = try services.instances(named: name)
            let instances = name.contains("#") ? named : services.layout.instances.filter { $0.service == named.first?.service }
            for instance in Set(named + instances).sorted() {
                await services.stop(instance)
                try await services.start(instance)
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Say what each instance of the installation's services does, with its URL.")
        @OptionGroup var installation: InstallationOptions
        @Option(help: "The width of the name column.") var nameWidth = 23

        func run() async throws {
            for line in try await installation.services.statusLines(nameWidth: nameWidth) { print(line) }
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
            let services = try installation.services
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

    struct Supervise: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run COMMAND and start it again whenever it exits unasked, as 'orderly system start' runs each service.",
            discussion: """
                Restarts wait 1 s, 2 s, 4 s... (ORDERLY_RESTART_DELAY, doubling up to ORDERLY_RESTART_MAX_DELAY, 30 s; \
                back to the first once a run lasted ORDERLY_RESTART_RESET, 60 s). The supervisor gives up (exit 1) when \
                one more restart would make more than ORDERLY_RESTART_LIMIT (5) within ORDERLY_RESTART_WINDOW seconds \
                (120), or at once when COMMAND exits 78 (misconfigured). SIGTERM stops COMMAND (SIGKILL after \
                ORDERLY_STOP_TIMEOUT, 20 s) and the supervisor (exit 0). It keeps NAME.pid and NAME.state in DIRECTORY.
                """
        )
        @Argument(help: "The name of its files.") var name: String
        @Argument(help: "The folder of its files.") var directory: String
        @Argument(parsing: .postTerminator, help: "The command to keep running.") var command: [String]

        func run() async throws {
            let policy: RestartPolicy
            do {
                policy = try RestartPolicy(environment: ProcessInfo.processInfo.environment)
            } catch {
                FileHandle.standardError.write(Data("supervise: \(error)\n".utf8))
                throw ExitCode(2)
            }
            guard !command.isEmpty else { throw ValidationError("no command to supervise after --") }
            let supervisor = Supervisor(name: name, directory: URL(fileURLWithPath: directory), command: command, policy: policy)
            let status = await supervisor.run()
            if status != 0 { throw ExitCode(status) }
        }
    }
}
