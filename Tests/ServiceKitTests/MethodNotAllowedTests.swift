import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ServiceKit
import Testing

@Suite struct MethodNotAllowedTests {
    static func application() -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: ProblemMiddleware())
        router.get("/v1/orders/:id") { _, _ in "an order" }
        router.get("/v1/orders") { _, _ in "orders" }
        router.post("/v1/orders") { _, _ in "placed" }
        router.answerUnroutedMethodsWith405()
        return Application(router: router)
    }

    @Test func aMethodAPathDoesNotTakeIs405NamingTheOnesItDoes() async throws {
        try await Self.application().test(.router) { client in
            let response = try await client.execute(uri: "/v1/orders", method: .delete)
            #expect(response.status == .methodNotAllowed)
            #expect(response.headers[.allow] == "GET, HEAD, POST")
            #expect(response.headers[.contentType] == "application/problem+json")
            let captured = try await client.execute(uri: "/v1/orders/42", method: .init("QUERY")!)
            #expect(captured.status == .methodNotAllowed)
            #expect(captured.headers[.allow] == "GET, HEAD")
        }
    }

    @Test func theMethodsAPathTakesAndUnknownPathsAreAsBefore() async throws {
        try await Self.application().test(.router) { client in
            let placed = try await client.execute(uri: "/v1/orders", method: .post)
            let read = try await client.execute(uri: "/v1/orders/42", method: .get)
            let unknown = try await client.execute(uri: "/v1/nothing", method: .delete)
            #expect(placed.status == .ok)
            #expect(read.status == .ok)
            #expect(unknown.status == .notFound)
        }
    }
}
