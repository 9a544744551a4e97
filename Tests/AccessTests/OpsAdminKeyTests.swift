import AMQP
import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Messaging
import Order
import ServiceKit
import Testing

/// The parking-queue routes of every service and order-service's operator's routes, behind the admin key:
/// refused before anything reaches the broker or another service.
@Suite struct OpsAdminKeyTests {
    static let settings = AdminKeyTests.settings

    /// A service's own parking routes and order-service's routes for the others, as the services mount them. Nothing
    /// listens at the broker's or the peers' addresses: a request that got past the key would fail with a `5xx`.
    func application(_ settings: ServiceSettings = settings) throws -> some ApplicationProtocol {
        let router = Router(context: ServiceRequestContext.self)
        router.add(middleware: ProblemMiddleware())
        let amqp = try AMQPConfiguration(url: "amqp://order-service:s3cret@127.0.0.1:1/")
        let parking = ParkingAdmin(service: "payment-service", queues: Subscriptions.payment, amqp: amqp, logger: Logger(label: "test"))
        ParkingRoutes.add(to: router, admin: parking, keys: settings.adminKeys)
        let peers = Dictionary(uniqueKeysWithValues: SystemCatalog.consumers.map { ($0.name, "http://127.0.0.1:1") })
        OpsRoutes(peers: peers, adminKeys: settings.adminKeys, own: nil).add(to: router)
        return Application(router: router)
    }

    static let routes: [(HTTPRequest.Method, String)] = [
        (.get, "/v1/admin/parked"), (.post, "/v1/admin/parked/replay"), (.post, "/v1/admin/parked/replay?message_id=m1"),
        (.get, "/v1/admin/services/inventory-service/parked"), (.post, "/v1/admin/services/inventory-service/parked/replay"),
    ]

    @Test func everyParkingRouteRefusesARequestWithoutTheAdminKey() async throws {
        try await application().test(.router) { client in
            for (method, uri) in Self.routes {
                for headers: HTTPFields in [
                    [:], [.authorization: "Bearer api-1"], [HTTPField.Name("X-API-Key")!: "api-1"], [HTTPField.Name("X-Admin-Key")!: "admin-3"],
                ] {
                    try await client.execute(uri: uri, method: method, headers: headers) { response in
                        #expect(response.status == .unauthorized, "\(method) \(uri) with \(headers)")
                        #expect(response.headers[.contentType] == "application/problem+json")
                    }
                }
            }
        }
    }

    @Test func withoutAdminKeysConfiguredTheParkingRoutesAreDisabled() async throws {
        let open = ServiceSettings(name: "order-service", defaultPort: 8080, environment: [:])
        try await application(open).test(.router) { client in
            for (method, uri) in Self.routes {
                try await client.execute(uri: uri, method: method, headers: [HTTPField.Name("X-Admin-Key")!: "anything"]) { response in
                    #expect(response.status == .forbidden, "\(method) \(uri)")
                }
            }
        }
    }

    @Test func withTheAdminKeyAnUnknownServiceIs404AndABadLimit422() async throws {
        try await application().test(.router) { client in
            let key: HTTPFields = [HTTPField.Name("X-Admin-Key")!: "admin-1"]
            try await client.execute(uri: "/v1/admin/services/gateway-sim/parked", method: .get, headers: key) { response in
                #expect(response.status == .notFound)
                #expect(String(buffer: response.body).contains("payment-service"), "the answer names the services there are")
            }
            try await client.execute(uri: "/v1/admin/parked?limit=0", method: .get, headers: key) { response in
                #expect(response.status == .unprocessableContent)
                #expect(String(buffer: response.body).contains(#""field":"limit""#))
            }
            // Past the key, a peer that does not answer is a 502 that says which variable to check.
            try await client.execute(uri: "/v1/admin/services/inventory-service/parked", method: .get, headers: key) { response in
                #expect(response.status == .badGateway)
                #expect(String(buffer: response.body).contains("ORDERLY_INVENTORY_URL"))
            }
        }
    }

    @Test func orderServiceRefusesAPeerURLThatIsNotHTTP() throws {
        for url in ["ftp://inventory:8082", "inventory-service:8082", "http://"] {
            let settings = ServiceSettings(name: "order-service", defaultPort: 8080, environment: ["ORDERLY_INVENTORY_URL": url])
            #expect(throws: SettingsError.self, "\(url)") { try OrderServiceConfiguration(settings: settings) }
        }
        let settings = ServiceSettings(name: "order-service", defaultPort: 8080, environment: ["ORDERLY_PAYMENT_URL": "http://payment:8081/"])
        #expect(try OrderServiceConfiguration(settings: settings).peers["payment-service"] == "http://payment:8081")
    }
}
