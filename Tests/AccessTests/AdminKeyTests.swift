import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ServiceKit
import Testing

/// Administrative routes behind the admin key, and the intake behind the API key, as every service
/// mounts them (``AdminRoutes``, ``AccessKeyMiddleware``).
@Suite struct AdminKeyTests {
    static let settings = ServiceSettings(
        name: "order-service", defaultPort: 8080,
        environment: [
            "ORDERLY_ADMIN_KEYS": "admin-1, admin-2", "ORDERLY_API_KEYS": "api-1",
            "ORDERLY_AMQP_URL": "amqp://order-service:s3cret@127.0.0.1:5672/",
            "ORDERLY_DATABASE_URL": "postgresql://orders:pw@127.0.0.1:5432/orderly",
        ])

    func application(_ settings: ServiceSettings = settings) -> some ApplicationProtocol {
        let router = Router(context: ServiceRequestContext.self)
        router.add(middleware: ProblemMiddleware())
        AdminRoutes.add(to: router, settings: settings)
        router.group("v1/orders").add(middleware: AccessKeyMiddleware.intake(keys: settings.apiKeys)).get { _, _ in "orders" }
        return Application(router: router)
    }

    @Test func anAdminActionWithoutTheAdminKeyIsRefused() async throws {
        try await application().test(.router) { client in
            try await client.execute(uri: "/v1/admin/settings", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] == "Bearer")
                #expect(response.headers[.contentType] == "application/problem+json")
            }
            try await client.execute(uri: "/v1/admin/settings", method: .get, headers: [.authorization: "Bearer api-1"]) { response in
                #expect(response.status == .unauthorized, "an API key is not an admin key")
            }
            try await client.execute(uri: "/v1/admin/settings", method: .get, headers: [.authorization: "Bearer admin-3"]) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }

    @Test func anAdminKeyLetsTheOperatorSeeTheSettingsWithoutTheirSecrets() async throws {
        try await application().test(.router) { client in
            for headers: HTTPFields in [[.authorization: "Bearer admin-2"], [HTTPField.Name("X-Admin-Key")!: "admin-1"]] {
                try await client.execute(uri: "/v1/admin/settings", method: .get, headers: headers) { response in
                    #expect(response.status == .ok)
                    let body = String(buffer: response.body)
                    #expect(body.contains(#""amqp_url":"amqp://order-service:***@127.0.0.1:5672/""#))
                    #expect(!body.contains("s3cret") && !body.contains(":pw@") && !body.contains("admin-1") && !body.contains("api-1"))
                    #expect(body.contains(#""admin_keys":2"#) && body.contains(#""api_keys":1"#))
                }
            }
        }
    }

    @Test func withoutAdminKeysConfiguredAdministrativeActionsAreDisabled() async throws {
        let open = ServiceSettings(name: "inventory-service", defaultPort: 8082, environment: [:])
        try await application(open).test(.router) { client in
            try await client.execute(uri: "/v1/admin/settings", method: .get, headers: [.authorization: "Bearer anything"]) { response in
                #expect(response.status == .forbidden)
                #expect(String(buffer: response.body).contains("ORDERLY_ADMIN_KEYS"))
            }
            // The intake, by contrast, is open while no API key is configured.
            try await client.execute(uri: "/v1/orders", method: .get) { response in #expect(response.status == .ok) }
        }
    }

    @Test func theIntakeRefusesARequestWithoutItsKey() async throws {
        try await application().test(.router) { client in
            try await client.execute(uri: "/v1/orders", method: .get) { response in #expect(response.status == .unauthorized) }
            try await client.execute(uri: "/v1/orders", method: .get, headers: [.authorization: "Bearer admin-1"]) { response in
                #expect(response.status == .unauthorized, "an admin key is not an API key")
            }
            try await client.execute(uri: "/v1/orders", method: .get, headers: [HTTPField.Name("X-API-Key")!: "api-1"]) { response in
                #expect(response.status == .ok)
            }
        }
    }
}
