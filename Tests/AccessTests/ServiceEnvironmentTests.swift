import Contracts
import Foundation
import Provisioning
import Testing

/// What a service starts with, as `orderly system env` prints it for infra/dev and the local runs use it.
@Suite struct ServiceEnvironmentTests {
    static func store() throws -> SecretStore {
        let store = SecretStore(directory: FileManager.default.temporaryDirectory.appendingPathComponent("env-\(UUID().uuidString)"))
        for service in SystemCatalog.all {
            _ = try store.secret(SecretStore.brokerPasswordName(service.brokerUser))
            _ = try store.secret(SecretStore.databasePasswordName(service.databaseRole))
        }
        return store
    }

    @Test func aServiceLogsInAsItselfAndFindsItsPeersWhereTheBaseMovesThem() throws {
        let store = try Self.store()
        defer { try? FileManager.default.removeItem(at: store.directory) }
        let environment = ServiceEnvironment(
            amqpURL: "amqp://anyone:x@127.0.0.1:5672/?failover=127.0.0.1:5673", databaseURL: "postgresql://anyone:x@127.0.0.1:5432/orderly",
            ports: ServiceEnvironment.ports(base: 8100), mailDirectory: "/mail", apiKey: "api", adminKey: "admin", secrets: store)
        let variables = Dictionary(uniqueKeysWithValues: try environment.variables(of: SystemCatalog.payment, port: 8121).map { ($0.name, $0.value) })
        let password = try #require(try store.existingSecret(SecretStore.brokerPasswordName(SystemCatalog.payment.brokerUser)))
        #expect(variables["ORDERLY_AMQP_URL"] == "amqp://payment-service:\(password)@127.0.0.1:5672/?failover=127.0.0.1:5673")
        #expect(variables["ORDERLY_DATABASE_URL"]?.hasPrefix("postgresql://payments:") == true)
        #expect(variables["ORDERLY_HTTP_PORT"] == "8121")
        #expect(variables["ORDERLY_GATEWAY_URL"] == "http://127.0.0.1:8110")
        #expect(variables["ORDERLY_ORDER_URL"] == "http://127.0.0.1:8100")
        #expect(variables["ORDERLY_NOTIFICATION_URL"] == "http://127.0.0.1:8103")
        #expect(variables["ORDERLY_API_KEYS"] == "api" && variables["ORDERLY_ADMIN_KEYS"] == "admin" && variables["ORDERLY_MAIL_DIR"] == "/mail")
    }

    @Test func aMissingPasswordIsNamed() throws {
        let empty = SecretStore(directory: FileManager.default.temporaryDirectory.appendingPathComponent("env-\(UUID().uuidString)"))
        let environment = ServiceEnvironment(
            amqpURL: "amqp://127.0.0.1/", databaseURL: "postgresql://127.0.0.1/orderly", mailDirectory: "/mail", secrets: empty)
        #expect(throws: SecretStoreError.self) { try environment.variables(of: SystemCatalog.order, port: 8080) }
    }
}
