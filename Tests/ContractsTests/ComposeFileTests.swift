import Foundation
import Testing

/// `compose.yaml` and the PostgreSQL init script against the processes, ports and roles of the contract.
@Suite(.timeLimit(.minutes(1)))
struct ComposeFileTests {
    let services: YAMLNode

    init() throws {
        services = try #require(try ContractDocument.load("compose.yaml").root["services"])
    }

    /// Each service process: its default port and its database role (= schema).
    static let processes: [(name: String, port: Int, role: String)] = [
        ("order-service", 8080, "orders"), ("payment-service", 8081, "payments"), ("inventory-service", 8082, "inventory"),
        ("notification-service", 8083, "notifications"), ("gateway-sim", 8090, "gateway"),
    ]

    @Test(arguments: processes.map(\.name))
    func everyServiceIsBuiltReadyAndReachable(name: String) throws {
        let process = try #require(Self.processes.first { $0.name == name })
        let service = try #require(services[name], "compose.yaml has no service \(name)")
        #expect(service[["build", "dockerfile"]]?.string == "infra/docker/Dockerfile")
        #expect(service[["build", "args", "PRODUCT"]]?.string == name)
        let environment = try #require(service["environment"])
        #expect(environment["ORDERLY_HTTP_HOST"]?.string == "0.0.0.0")
        #expect(environment["ORDERLY_HTTP_PORT"]?.string == "\(process.port)")
        #expect(environment["ORDERLY_AMQP_URL"]?.string?.contains("@rabbitmq:5672/") == true)
        let database = try #require(environment["ORDERLY_DATABASE_URL"]?.string)
        #expect(database.hasPrefix("postgresql://\(process.role):") && database.hasSuffix("@postgres:5432/orderly"))
        #expect(service["ports"]?.strings == ["\(process.port):\(process.port)"])
        #expect(service[["healthcheck", "test"]]?.strings?.last == "http://127.0.0.1:\(process.port)/health/ready")
        #expect(service[["depends_on", "postgres", "condition"]]?.string == "service_healthy")
        #expect(service[["depends_on", "rabbitmq", "condition"]]?.string == "service_healthy")
        #expect(service["restart"]?.string == "unless-stopped")
    }

    @Test func paymentTalksToTheSimulatorAndNotificationKeepsItsMail() {
        #expect(services[["payment-service", "environment", "ORDERLY_GATEWAY_URL"]]?.string == "http://gateway-sim:8090")
        #expect(services[["payment-service", "depends_on", "gateway-sim", "condition"]]?.string == "service_healthy")
        let mailDir = services[["notification-service", "environment", "ORDERLY_MAIL_DIR"]]?.string
        #expect(mailDir != nil && services[["notification-service", "volumes"]]?.strings?.contains { $0.hasSuffix(":\(mailDir!)") } == true)
    }

    @Test func theInitScriptCreatesTheRoleOfEveryService() throws {
        let script = try String(contentsOf: ContractDocument.repositoryRoot.appendingPathComponent("infra/docker/postgres-init.sh"), encoding: .utf8)
        let line = try #require(script.split(separator: "\n").first { $0.hasPrefix("ROLES=(") })
        let roles = line.dropFirst("ROLES=(".count).dropLast().split(separator: " ").map(String.init)
        #expect(Set(roles) == Set(Self.processes.map(\.role)))
        let mounts = services[["postgres", "volumes"]]?.strings ?? []
        #expect(mounts.contains { $0.hasPrefix("./infra/docker/postgres-init.sh:/docker-entrypoint-initdb.d/") })
    }
}
