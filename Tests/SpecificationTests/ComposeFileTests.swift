import ContractDocuments
import Contracts
import Foundation
import Provisioning
import Testing

/// `compose.yaml`, its RabbitMQ and PostgreSQL files and `.env.example` against the system catalog:
/// processes, ports, broker users, database roles, secrets.
@Suite(.timeLimit(.minutes(1)))
struct ComposeFileTests {
    let services: YAMLNode

    init() throws {
        services = try #require(try ContractDocument.load("compose.yaml").root["services"])
    }

    /// Each service process: its default port and its database role (= schema), from the catalog.
    static let processes: [(name: String, port: Int, role: String)] = SystemCatalog.all.map { ($0.name, $0.httpPort, $0.databaseRole) }

    @Test(arguments: processes.map(\.name))
    func everyServiceIsBuiltReadyAndReachable(name: String) throws {
        let process = try #require(Self.processes.first { $0.name == name })
        let service = try #require(services[name], "compose.yaml has no service \(name)")
        #expect(service[["build", "dockerfile"]]?.string == "infra/docker/Dockerfile")
        #expect(service[["build", "args", "PRODUCT"]]?.string == name)
        let environment = try #require(service["environment"])
        #expect(environment["ORDERLY_HTTP_HOST"]?.string == "0.0.0.0")
        #expect(environment["ORDERLY_HTTP_PORT"]?.string == "\(process.port)")
        // JSON log lines unless the operator's .env says otherwise.
        #expect(environment["ORDERLY_LOG_FORMAT"]?.string == "${ORDERLY_LOG_FORMAT:-json}")
        // Each logs in as itself, with its password from the variable the catalog names.
        let descriptor = try #require(SystemCatalog.service(named: name))
        let amqp = try #require(environment["ORDERLY_AMQP_URL"]?.string)
        let user = try #require(SystemCatalog.brokerUsers.first { $0.name == descriptor.brokerUser })
        #expect(amqp.hasPrefix("amqp://\(user.name):${\(user.passwordVariable):?") && amqp.hasSuffix("@rabbitmq:5672/"))
        let database = try #require(environment["ORDERLY_DATABASE_URL"]?.string)
        let role = try #require(SystemCatalog.databaseRoles.first { $0.name == process.role })
        #expect(database.hasPrefix("postgresql://\(process.role):${\(role.passwordVariable):?") && database.hasSuffix("@postgres:5432/orderly"))
        #expect(environment["ORDERLY_ADMIN_KEYS"]?.string?.hasPrefix("${ORDERLY_ADMIN_KEYS:?") == true)
        #expect(service["ports"]?.strings == ["127.0.0.1:${\(Self.portVariable(name)):-\(process.port)}:\(process.port)"])
        #expect(service[["healthcheck", "test"]]?.strings?.last == "http://127.0.0.1:\(process.port)/health/ready")
        #expect(service[["depends_on", "postgres", "condition"]]?.string == "service_healthy")
        #expect(service[["depends_on", "rabbitmq", "condition"]]?.string == "service_healthy")
        #expect(service["restart"]?.string == "unless-stopped")
    }

    /// The variable that moves a service's published port on the host (`ORDERLY_PORT_ORDER_SERVICE`).
    static func portVariable(_ service: String) -> String { "ORDERLY_PORT_" + service.uppercased().replacingOccurrences(of: "-", with: "_") }

    /// The Dockerfile's build stage makes every product compose.yaml asks it for, and the brokers' images
    /// can be replaced (by a mirror's, or the compose tier's stand-ins) without editing the file.
    @Test func everyImageIsBuiltByTheSharedStageOrNamedByAVariable() throws {
        let dockerfile = try Self.file("infra/docker/Dockerfile")
        let line = try #require(dockerfile.split(separator: "\n").first { $0.hasPrefix("ARG PRODUCTS=") })
        let products = Set(line.dropFirst("ARG PRODUCTS=".count).trimmingCharacters(in: ["\""]).split(separator: " ").map(String.init))
        for process in Self.processes {
            #expect(products.contains(process.name), "the Dockerfile's PRODUCTS lacks \(process.name)")
            #expect(services[[process.name, "build", "args", "SWIFT_IMAGE"]]?.string == "${ORDERLY_SWIFT_IMAGE:-swift:6.3-bookworm}")
            #expect(services[[process.name, "build", "args", "RUNTIME_IMAGE"]]?.string == "${ORDERLY_RUNTIME_IMAGE:-debian:bookworm-slim}")
        }
        #expect(services[["rabbitmq", "image"]]?.string == "${ORDERLY_RABBITMQ_IMAGE:-rabbitmq:3.13}")
        #expect(services[["postgres", "image"]]?.string == "${ORDERLY_POSTGRES_IMAGE:-postgres:16}")
        #expect(services[["rabbitmq", "ports"]]?.strings == ["127.0.0.1:${ORDERLY_PORT_RABBITMQ:-5672}:5672"])
        #expect(services[["postgres", "ports"]]?.strings == ["127.0.0.1:${ORDERLY_PORT_POSTGRES:-5432}:5432"])
    }

    @Test func paymentTalksToTheSimulatorAndNotificationKeepsItsMail() {
        #expect(services[["payment-service", "environment", "ORDERLY_GATEWAY_URL"]]?.string == "http://gateway-sim:8090")
        #expect(services[["payment-service", "depends_on", "gateway-sim", "condition"]]?.string == "service_healthy")
        let mailDir = services[["notification-service", "environment", "ORDERLY_MAIL_DIR"]]?.string
        #expect(mailDir != nil && services[["notification-service", "volumes"]]?.strings?.contains { $0.hasSuffix(":\(mailDir!)") } == true)
    }

    @Test func orderServiceReachesTheOtherServicesAtTheirComposeAddresses() {
        for peer in SystemCatalog.consumers where peer != SystemCatalog.order {
            let url = services[["order-service", "environment", peer.urlVariable]]?.string
            #expect(url == "http://\(peer.name):\(peer.httpPort)", "order-service reaches \(peer.name)'s parking queue at its compose address")
        }
    }

    @Test func theIntakeRequiresAKey() {
        #expect(services[["order-service", "environment", "ORDERLY_API_KEYS"]]?.string?.hasPrefix("${ORDERLY_API_KEYS:?") == true)
    }

    static func file(_ path: String) throws -> String {
        try String(contentsOf: ContractDocument.repositoryRoot.appendingPathComponent(path), encoding: .utf8)
    }

    @Test func postgresRunsTheCatalogsScriptWithEveryRolesPassword() throws {
        #expect(
            try Self.file("infra/postgres/provision.sql") == DatabaseScript().psqlScript,
            "regenerate it: orderly system sql > infra/postgres/provision.sql")
        let mounts = services[["postgres", "volumes"]]?.strings ?? []
        #expect(mounts.contains("./infra/docker/postgres-init.sh:/docker-entrypoint-initdb.d/10-orderly-roles.sh:ro"))
        #expect(mounts.contains("./infra/postgres/provision.sql:/orderly/provision.sql:ro"))
        #expect(try Self.file("infra/docker/postgres-init.sh").contains("script=/orderly/provision.sql"))
        let environment = try #require(services[["postgres", "environment"]])
        for role in SystemCatalog.databaseRoles where role.schema != nil {
            #expect(environment[role.passwordVariable]?.string?.hasPrefix("${\(role.passwordVariable):?") == true, "\(role.passwordVariable)")
        }
        #expect(environment["POSTGRES_USER"]?.string == SystemCatalog.databaseOperator.name)
        #expect(environment["POSTGRES_PASSWORD"]?.string?.hasPrefix("${\(SystemCatalog.databaseOperator.passwordVariable):?") == true)
    }

    @Test func rabbitMQLoadsTheCatalogsDefinitionsWithEveryUsersPassword() throws {
        #expect(
            try Self.file("infra/rabbitmq/definitions.json") == BrokerDefinitions.catalog().json(passwords: .variables),
            "regenerate it: orderly system definitions > infra/rabbitmq/definitions.json")
        let rabbitmq = try #require(services["rabbitmq"])
        let mounts = rabbitmq["volumes"]?.strings ?? []
        #expect(mounts.contains("./infra/rabbitmq/definitions.json:/etc/rabbitmq/orderly/definitions.json:ro"))
        #expect(mounts.contains("./infra/rabbitmq/rabbitmq.conf:/etc/rabbitmq/conf.d/90-orderly.conf:ro"))
        #expect(mounts.contains("./infra/rabbitmq/entrypoint.sh:/usr/local/bin/orderly-entrypoint.sh:ro"))
        #expect(rabbitmq["entrypoint"]?.strings == ["/usr/local/bin/orderly-entrypoint.sh"])
        let entrypoint = try Self.file("infra/rabbitmq/entrypoint.sh")
        #expect(entrypoint.contains("template=/etc/rabbitmq/orderly/definitions.json"))
        #expect(entrypoint.contains("target=/etc/rabbitmq/orderly-definitions.json"))
        #expect(try Self.file("infra/rabbitmq/rabbitmq.conf").contains("\nload_definitions = /etc/rabbitmq/orderly-definitions.json\n"))
        for user in SystemCatalog.brokerUsers {
            #expect(
                rabbitmq[["environment", user.passwordVariable]]?.string?.hasPrefix("${\(user.passwordVariable):?") == true,
                "\(user.passwordVariable)")
        }
    }

    /// Every `${NAME...}` compose.yaml reads.
    static func variables(in text: String) -> Set<String> {
        var names: Set<String> = []
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            let name = rest[start.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            names.insert(String(name))
            rest = rest[start.upperBound...]
        }
        return names
    }

    /// The `NAME=` lines of `.env.example`, commented ones included.
    static func exampleVariables() throws -> (required: Set<String>, optional: Set<String>) {
        var required: Set<String> = []
        var optional: Set<String> = []
        for line in try file(".env.example").split(whereSeparator: \.isNewline) {
            let commented = line.hasPrefix("# ")
            let body = commented ? line.dropFirst(2) : line[...]
            guard let equals = body.firstIndex(of: "="), body[..<equals].allSatisfy({ $0.isUppercase || $0.isNumber || $0 == "_" }) else { continue }
            let name = String(body[..<equals])
            if commented { optional.insert(name) } else { required.insert(name) }
        }
        return (required, optional)
    }

    @Test func theExampleEnvironmentNamesEveryRequiredVariableAndNoValue() throws {
        let compose = try Self.file("compose.yaml")
        let required = Set(Self.variables(in: compose).filter { compose.contains("${\($0):?") })
        let example = try Self.exampleVariables()
        #expect(example.required == required)
        #expect(example.optional.isSubset(of: Self.variables(in: compose)))
        for line in try Self.file(".env.example").split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            #expect(line.hasSuffix("="), "no value in .env.example: \(line)")
        }
    }

    /// Which services there are, their ports and URLs are the catalog's, which `orderly system` applies:
    /// infra/dev's bash names no service but the one its help takes as an example.
    @Test func infraDevKeepsNoCopyOfTheServiceTable() throws {
        let folder = ContractDocument.repositoryRoot.appendingPathComponent("infra/dev.d")
        let parts = try FileManager.default.contentsOfDirectory(atPath: folder.path).map { "infra/dev.d/\($0)" }
        for path in parts + ["infra/dev"] {
            let text = try Self.file(path)
            for service in SystemCatalog.all where service != SystemCatalog.order {
                #expect(!text.contains(service.name), "\(path) names \(service.name)")
            }
        }
    }

    /// Debian's docker-compose (1.29) reads the file as `docker compose` would: interpolation, the
    /// service definitions, depends_on conditions. No engine is needed for `config`.
    @Test(.enabled(if: DockerCompose.available || DockerCompose.required, "docker-compose is not installed (./infra/dev test installs it)"))
    func dockerComposeAcceptsTheFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("orderly-compose-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let environment = folder.appendingPathComponent("test.env")
        let values = try Self.exampleVariables().required.sorted().map { "\($0)=\(SecretStore.generate())" }
        try (values.joined(separator: "\n") + "\n").write(to: environment, atomically: true, encoding: .utf8)
        let result = try DockerCompose.run(["--env-file", environment.path, "-f", "compose.yaml", "config"])
        #expect(result.status == 0, "docker-compose config: \(result.output)")
        #expect(result.output.contains("condition: service_healthy"))
        // With a variable missing, it refuses, naming it.
        try (values.dropFirst().joined(separator: "\n") + "\n").write(to: environment, atomically: true, encoding: .utf8)
        let missing = try DockerCompose.run(["--env-file", environment.path, "-f", "compose.yaml", "config", "-q"])
        #expect(missing.status != 0)
    }
}

/// Debian's `docker-compose`, found on `PATH`.
enum DockerCompose {
    static var available: Bool { path != nil }
    /// `./infra/dev test` installs it and sets `ORDERLY_REQUIRE_DOCKER_COMPOSE`, so there a missing one fails the test.
    static var required: Bool { ProcessInfo.processInfo.environment["ORDERLY_REQUIRE_DOCKER_COMPOSE"] == "1" }

    static var path: String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":").map { "\($0)/docker-compose" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path ?? "/usr/bin/docker-compose")
        process.arguments = arguments
        process.currentDirectoryURL = ContractDocument.repositoryRoot
        var environment = ProcessInfo.processInfo.environment
        environment["COMPOSE_PROJECT_NAME"] = "orderly"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}
