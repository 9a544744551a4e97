import Contracts
import Foundation
import TestSupport
import Testing

/// Every way a request to `POST /v1/orders` can be wrong gets its status and a problem+json body.
@Suite("EndToEnd intake errors", .runningSystem(), .timeLimit(.minutes(2)))
struct IntakeEndToEndTests {
    struct Problem: Decodable {
        struct FieldError: Decodable { var field: String }
        var status: Int
        var title: String
        var errors: [FieldError]?
    }

    func post(_ body: String, headers: [(String, String)] = [("Content-Type", "application/json")], authenticated: Bool = true) async throws -> (
        Int, String?, Problem?
    ) {
        let system = try #require(SystemUnderTest.current)
        let response = try await system.request(.POST, path: "/v1/orders", body: body, headers: headers, authenticated: authenticated)
        return (response.status, response.headers.first(name: "Content-Type"), try? Checkout.decoder.decode(Problem.self, from: response.body))
    }

    @Test func malformedJSONIs400() async throws {
        let (status, type, problem) = try await post("{\"customer\":")
        #expect(status == 400)
        #expect(type == "application/problem+json")
        #expect(problem?.status == 400)
    }

    @Test func invalidFieldsAre422AndNamed() async throws {
        let body =
            #"{"customer":{"id":"","email":"nope"},"currency":"euro","items":[{"sku":"A","quantity":0,"unit_price_cents":-1}],"payment":{"token":""}}"#
        let (status, type, problem) = try await post(body)
        #expect(status == 422)
        #expect(type == "application/problem+json")
        let fields = Set(problem?.errors?.map(\.field) ?? [])
        #expect(
            fields.isSuperset(of: ["customer.id", "customer.email", "currency", "items[0].quantity", "items[0].unit_price_cents", "payment.token"]))
    }

    @Test func aBodyOverTheLimitIs413() async throws {
        let (status, type, _) = try await post(String(repeating: " ", count: 2 << 20) + "{}")
        #expect(status == 413)
        #expect(type == "application/problem+json")
    }

    @Test func aWrongContentTypeIs415() async throws {
        let (status, type, _) = try await post(Checkout.body(sku: "A"), headers: [("Content-Type", "text/plain")])
        #expect(status == 415)
        #expect(type == "application/problem+json")
    }

    /// Every service runs as its own broker user and database role, and says so to the operator
    /// (with the admin key only): the end-to-end system is provisioned as ./infra/dev up is.
    @Test(arguments: SystemCatalog.all.map(\.name))
    func everyServiceRunsAsItselfAndShowsItOnlyWithTheAdminKey(service: String) async throws {
        let system = try #require(SystemUnderTest.current)
        let descriptor = try #require(SystemCatalog.service(named: service))
        let refused = try await system.request(.GET, service: service, path: "/v1/admin/settings", headers: [], authenticated: false)
        #expect(refused.status == 401)
        let withAPIKey = try await system.request(.GET, service: service, path: "/v1/admin/settings", headers: [])
        #expect(withAPIKey.status == 401, "the intake's key is not an admin key")
        let adminKey = try #require(system.adminKey)
        let settings = try await system.request(
            .GET, service: service, path: "/v1/admin/settings", headers: [("Authorization", "Bearer \(adminKey)")], authenticated: false)
        #expect(settings.status == 200)
        let body = String(decoding: settings.body, as: UTF8.self)
        #expect(body.contains("amqp://\(descriptor.brokerUser):***@"), "\(body)")
        #expect(body.contains("postgresql://\(descriptor.databaseRole):***@"), "\(body)")
    }

    @Test func aMissingAPIKeyIs401() async throws {
        let (status, type, _) = try await post(Checkout.body(sku: "A"), authenticated: false)
        #expect(status == 401)
        #expect(type == "application/problem+json")
    }

    @Test func theSameKeyWithAnotherBodyIs422AndTheSameBodyReplays() async throws {
        let system = try #require(SystemUnderTest.current)
        let key = UUID().uuidString
        let headers = [("Content-Type", "application/json"), ("Idempotency-Key", key)]
        let first = try await system.request(.POST, path: "/v1/orders", body: Checkout.body(sku: "A"), headers: headers)
        #expect(first.status == 202)
        let replay = try await system.request(.POST, path: "/v1/orders", body: Checkout.body(sku: "A"), headers: headers)
        #expect(replay.status == 202)
        #expect(replay.headers.first(name: "Idempotent-Replayed") == "true")
        #expect(replay.headers.first(name: "Location") == first.headers.first(name: "Location"))
        let other = try await system.request(.POST, path: "/v1/orders", body: Checkout.body(sku: "B"), headers: headers)
        #expect(other.status == 422)
        #expect(other.headers.first(name: "Content-Type") == "application/problem+json")
    }

    @Test func anUnknownOrderIs404() async throws {
        let system = try #require(SystemUnderTest.current)
        let response = try await system.request(.GET, path: "/v1/orders/\(UUID().uuidString.lowercased())")
        #expect(response.status == 404)
        #expect(response.headers.first(name: "Content-Type") == "application/problem+json")
    }
}
