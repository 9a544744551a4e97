import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Order
import Postgres
import ServiceKit
import Telemetry
import TestSupport
import Testing

/// The HTTP intake against a real schema: every status code the contract names.
@Suite("Order HTTP API", .timeLimit(.minutes(1)))
struct OrderAPITests {
    static let body = """
        { "customer": { "id": "c-42", "email": "ada@example.com" },
          "currency": "EUR",
          "items": [ { "sku": "SKU-001", "quantity": 2, "unit_price_cents": 1250 } ],
          "payment": { "token": "tok_ok" } }
        """
    /// The same order, with its keys in another order and other whitespace.
    static let sameBodyReordered = """
        {"payment":{"token":"tok_ok"},"items":[{"unit_price_cents":1250,"sku":"SKU-001","quantity":2}],
         "currency":"EUR","customer":{"email":"ada@example.com","id":"c-42"}}
        """
    static let json: HTTPFields = [.contentType: "application/json"]

    struct ProblemBody: Decodable {
        struct FieldError: Decodable {
            var field: String
            var message: String
        }
        var type: String
        var title: String
        var status: Int
        var detail: String?
        var errors: [FieldError]?
    }

    /// Checks that `response` is problem details with `status`, and returns them.
    @discardableResult
    static func expectProblem(
        _ response: TestResponse, _ status: HTTPResponse.Status, title: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> ProblemBody {
        #expect(response.status == status, sourceLocation: sourceLocation)
        #expect(response.headers[.contentType] == "application/problem+json", sourceLocation: sourceLocation)
        let problem = try JSONDecoder().decode(ProblemBody.self, from: Data(buffer: response.body))
        #expect(problem.status == Int(status.code), sourceLocation: sourceLocation)
        #expect(problem.title == title ?? status.reasonPhrase, sourceLocation: sourceLocation)
        return problem
    }

    static func decodeOrder(_ response: TestResponse) throws -> Order {
        try JSONDecoder().decode(Order.self, from: Data(buffer: response.body))
    }

    static func headers(key: String? = nil, _ extra: HTTPFields = [:]) -> HTTPFields {
        var headers = json
        if let key { headers[HTTPField.Name("Idempotency-Key")!] = key }
        headers.append(contentsOf: extra)
        return headers
    }

    static let replayed = HTTPField.Name("Idempotent-Replayed")!

    @Test func anAcceptedOrderIsPendingStoredAndItsEventIsInTheOutbox() async throws {
        let harness = try await OrderHarness.make()
        let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let (created, fetched) = try await harness.withAPI { client in
            let created = try await client.execute(
                uri: "/v1/orders", method: .post, headers: Self.headers([HTTPField.Name("traceparent")!: traceparent]),
                body: ByteBuffer(string: Self.body)
            )
            let location = try #require(created.headers[.location])
            let fetched = try await client.execute(uri: location, method: .get)
            return (created, fetched)
        }
        #expect(created.status == .accepted)
        #expect(created.headers[.contentType] == "application/json; charset=utf-8")
        #expect(created.headers[Self.replayed] == nil)
        let order = try Self.decodeOrder(created)
        #expect(created.headers[.location] == "/v1/orders/\(order.id.description)")
        #expect(order.status == .pending)
        #expect(order.totalCents == 2500)
        #expect(order.currency == "EUR")
        #expect(order.customer == Customer(id: "c-42", email: "ada@example.com"))
        #expect(order.items == [OrderLine(sku: "SKU-001", quantity: 2, unitPriceCents: 1250)])
        #expect(order.history.map(\.status) == [.pending])

        #expect(fetched.status == .ok)
        #expect(try Self.decodeOrder(fetched) == order)
        // The JSON shape of the contract, nulls included.
        let object = try #require(try JSONSerialization.jsonObject(with: Data(buffer: fetched.body)) as? [String: Any])
        #expect(Set(object.keys) == ["id", "status", "currency", "total_cents", "customer", "items", "payment_id", "failure_reason", "history"])
        #expect(object["payment_id"] is NSNull)
        #expect(object["failure_reason"] is NSNull)
        let at = try #require(((object["history"] as? [[String: Any]])?.first?["at"]) as? String)
        #expect(at.hasSuffix("Z"))

        let outbox = try await harness.outbox()
        #expect(outbox.map(\.type) == ["order.placed"])
        let placed = try #require(outbox.first)
        #expect(placed.exchange == harness.configuration.events.exchange)
        #expect(placed.event.subject == order.id.description)
        // The request's span is the child of the caller's: same trace, a span id of its own.
        let carried = try #require(placed.event.traceparent.flatMap { TraceParent($0) })
        #expect(carried.traceIDText == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(carried.parentIDText != "00f067aa0ba902b7")
        #expect(placed.event.source == "/orderly/order-service")
        let payload = try placed.event.decodeData(as: OrderPlaced.self)
        #expect(payload.totalCents == 2500)
        #expect(payload.paymentToken == "tok_ok")
        #expect(payload.items == order.items)
        try await harness.tearDown()
    }

    @Test func pastTheBacklogLimitOrdersAreRefusedWith503UntilTheSagaCatchesUp() async throws {
        let harness = try await OrderHarness.make()
        let backlog = SagaBacklog(store: harness.saga.store, pool: harness.pool, limit: 2, logger: TestEnvironment.logger(harness.name))
        try await harness.withAPI(backlog: backlog) { client in
            for _ in 0..<2 {
                let accepted = try await client.execute(
                    uri: "/v1/orders", method: .post, headers: Self.headers(), body: ByteBuffer(string: Self.body))
                #expect(accepted.status == .accepted)
            }
            // Counted as they were accepted, before any reading of the database.
            let refused = try await client.execute(uri: "/v1/orders", method: .post, headers: Self.headers(), body: ByteBuffer(string: Self.body))
            let problem = try Self.expectProblem(refused, .serviceUnavailable)
            #expect(refused.headers[.retryAfter] == "1")
            #expect(problem.detail?.contains("2 orders") == true)
            // The reading agrees while they are open; once one ends, the intake admits again.
            try await backlog.refresh()
            #expect(
                try await client.execute(uri: "/v1/orders", method: .post, headers: Self.headers(), body: ByteBuffer(string: Self.body)).status
                    == .serviceUnavailable)
            try await harness.pool.execute(
                "UPDATE \(identifier: harness.schema).orders SET status = 'CANCELLED', deadline = NULL WHERE id = (SELECT id FROM \(identifier: harness.schema).orders LIMIT 1)"
            )
            try await backlog.refresh()
            #expect(
                try await client.execute(uri: "/v1/orders", method: .post, headers: Self.headers(), body: ByteBuffer(string: Self.body)).status
                    == .accepted)
        }
        #expect(try await harness.count("orders") == 3)
        try await harness.tearDown()
    }

    @Test func theSameKeyAndBodyReplaysTheSameOrder() async throws {
        let harness = try await OrderHarness.make()
        let (first, second) = try await harness.withAPI { client in
            let first = try await client.execute(
                uri: "/v1/orders", method: .post, headers: Self.headers(key: "k-1"), body: ByteBuffer(string: Self.body))
            let second = try await client.execute(
                uri: "/v1/orders", method: .post, headers: Self.headers(key: "k-1"), body: ByteBuffer(string: Self.sameBodyReordered)
            )
            return (first, second)
        }
        #expect(first.status == .accepted)
        #expect(second.status == .accepted)
        #expect(second.headers[Self.replayed] == "true")
        #expect(second.headers[.location] == first.headers[.location])
        #expect(try Self.decodeOrder(second) == Self.decodeOrder(first))
        #expect(try await harness.count("orders") == 1)
        #expect(try await harness.outbox().count == 1)
        try await harness.tearDown()
    }

    @Test func theSameKeyWithAnotherBodyIs422() async throws {
        let harness = try await OrderHarness.make()
        let other = Self.body.replacingOccurrences(of: "\"quantity\": 2", with: "\"quantity\": 3")
        let response = try await harness.withAPI { client in
            try await client.execute(uri: "/v1/orders", method: .post, headers: Self.headers(key: "k-2"), body: ByteBuffer(string: Self.body))
            return try await client.execute(uri: "/v1/orders", method: .post, headers: Self.headers(key: "k-2"), body: ByteBuffer(string: other))
        }
        let problem = try Self.expectProblem(response, .unprocessableContent)
        #expect(problem.errors?.map(\.field) == ["Idempotency-Key"])
        #expect(problem.detail?.contains("different order") == true)
        #expect(try await harness.count("orders") == 1)
        try await harness.tearDown()
    }

    @Test func aMalformedIdempotencyKeyIs422NamingTheHeader() async throws {
        let harness = try await OrderHarness.make()
        let responses = try await harness.withAPI { client in
            var responses: [TestResponse] = []
            for key in [String(repeating: "k", count: 256), "naïve"] {
                responses.append(
                    try await client.execute(uri: "/v1/orders", method: .post, headers: Self.headers(key: key), body: ByteBuffer(string: Self.body))
                )
            }
            return responses
        }
        for response in responses {
            #expect(try Self.expectProblem(response, .unprocessableContent).errors?.map(\.field) == ["Idempotency-Key"])
        }
        #expect(try await harness.count("orders") == 0)
        try await harness.tearDown()
    }

    @Test func twentyConcurrentRequestsWithOneKeyMakeOneOrder() async throws {
        let harness = try await OrderHarness.make()
        let responses = try await harness.withAPI { client in
            try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await client.execute(
                            uri: "/v1/orders", method: .post, headers: Self.headers(key: "race"), body: ByteBuffer(string: Self.body))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }
        #expect(responses.count == 20)
        #expect(responses.allSatisfy { $0.status == .accepted })
        #expect(Set(responses.compactMap { $0.headers[.location] }).count == 1)
        #expect(responses.filter { $0.headers[Self.replayed] == "true" }.count == 19)
        #expect(try await harness.count("orders") == 1)
        #expect(try await harness.outbox().map(\.type) == ["order.placed"])
        try await harness.tearDown()
    }

    @Test func malformedJSONIs400() async throws {
        let harness = try await OrderHarness.make()
        let response = try await harness.withAPI { client in
            try await client.execute(uri: "/v1/orders", method: .post, headers: Self.json, body: ByteBuffer(string: "{\"customer\": "))
        }
        let problem = try Self.expectProblem(response, .badRequest)
        #expect(problem.detail == "the body is not valid JSON")
        #expect(try await harness.count("orders") == 0)
        try await harness.tearDown()
    }

    @Test func invalidFieldsAre422WithEveryFieldNamed() async throws {
        let harness = try await OrderHarness.make()
        let body = """
            { "customer": { "id": "", "email": "nobody" }, "currency": "euro",
              "items": [ { "sku": "SKU-001", "quantity": 0, "unit_price_cents": 1250 }, { "sku": "", "quantity": 1 } ],
              "payment": { "token": "" } }
            """
        let response = try await harness.withAPI { client in
            try await client.execute(uri: "/v1/orders", method: .post, headers: Self.json, body: ByteBuffer(string: body))
        }
        let problem = try Self.expectProblem(response, .unprocessableContent)
        #expect(
            problem.errors?.map(\.field) == [
                "items[1].unit_price_cents", "customer.id", "customer.email", "currency", "items[0].quantity", "items[1].sku", "payment.token",
            ]
        )
        #expect(problem.errors?.first?.message == "is required")
        #expect(try await harness.count("orders") == 0)
        try await harness.tearDown()
    }

    @Test func aNULCharacterIs422NamingItsFieldNotA500() async throws {
        let harness = try await OrderHarness.make()
        let body = Self.body.replacingOccurrences(of: "\"tok_ok\"", with: "\"tok\\u0000ok\"")
        let (posted, listed) = try await harness.withAPI { client in
            (
                try await client.execute(uri: "/v1/orders", method: .post, headers: Self.json, body: ByteBuffer(string: body)),
                try await client.execute(uri: "/v1/orders?customer_id=c%00", method: .get)
            )
        }
        #expect(try Self.expectProblem(posted, .unprocessableContent).errors?.map(\.field) == ["payment.token"])
        #expect(try Self.expectProblem(listed, .unprocessableContent).errors?.map(\.field) == ["customer_id"])
        #expect(try await harness.count("orders") == 0)
        try await harness.tearDown()
    }

    @Test func aFreeOrderIs422AndNothingIsStored() async throws {
        let harness = try await OrderHarness.make()
        let free = Self.body.replacingOccurrences(of: "\"unit_price_cents\": 1250", with: "\"unit_price_cents\": 0")
        let response = try await harness.withAPI { client in
            try await client.execute(uri: "/v1/orders", method: .post, headers: Self.json, body: ByteBuffer(string: free))
        }
        let problem = try Self.expectProblem(response, .unprocessableContent)
        #expect(problem.errors?.map(\.field) == ["items"])
        #expect(try await harness.count("orders") == 0)
        try await harness.tearDown()
    }

    @Test func aFailureWhoseOutcomeIsUnknownNeverSaysRetryingIsSafe() async throws {
        let router = Router(context: ServiceRequestContext.self)
        router.add(middleware: ProblemMiddleware())
        router.post("/lost") { _, _ -> Response in throw PostgresError(code: .commitOutcomeUnknown, message: "connection lost during COMMIT") }
        router.post("/failed") { _, _ -> Response in throw PostgresError(code: .connectionLost, message: "connection lost") }
        let application = Application(router: router)
        try await application.test(.router) { client in
            let lost = try Self.expectProblem(try await client.execute(uri: "/lost", method: .post), .internalServerError, title: "Outcome unknown")
            #expect(lost.detail?.contains("may or may not have") == true)
            #expect(lost.detail?.contains("same Idempotency-Key") == true)
            let failed = try Self.expectProblem(try await client.execute(uri: "/failed", method: .post), .internalServerError)
            #expect(failed.detail?.contains("safe to retry") == false)
        }
    }

    @Test func aBodyOverTheLimitIs413() async throws {
        let harness = try await OrderHarness.make { $0.maxBodyBytes = 256 }
        let big = Self.body.replacingOccurrences(of: "c-42", with: String(repeating: "c", count: 300))
        let response = try await harness.withAPI { client in
            try await client.execute(uri: "/v1/orders", method: .post, headers: Self.json, body: ByteBuffer(string: big))
        }
        try Self.expectProblem(response, .contentTooLarge)
        #expect(try await harness.count("orders") == 0)
        try await harness.tearDown()
    }

    @Test func aBodyThatIsNotJSONIs415() async throws {
        let harness = try await OrderHarness.make()
        let responses = try await harness.withAPI { client in
            [
                try await client.execute(
                    uri: "/v1/orders", method: .post, headers: [.contentType: "text/plain"], body: ByteBuffer(string: Self.body)),
                try await client.execute(uri: "/v1/orders", method: .post, headers: [:], body: ByteBuffer(string: Self.body)),
                try await client.execute(
                    uri: "/v1/orders", method: .post, headers: [.contentType: "Application/JSON; charset=utf-8"], body: ByteBuffer(string: Self.body)
                ),
            ]
        }
        try Self.expectProblem(responses[0], .unsupportedMediaType)
        try Self.expectProblem(responses[1], .unsupportedMediaType)
        #expect(responses[2].status == .accepted)
        try await harness.tearDown()
    }

    @Test func withKeysConfiguredAMissingOrWrongKeyIs401() async throws {
        let harness = try await OrderHarness.make { $0.apiKeys = ["secret-1", "secret-2"] }
        let apiKey = HTTPField.Name("X-API-Key")!
        let responses = try await harness.withAPI { client in
            let body = ByteBuffer(string: Self.body)
            return [
                try await client.execute(uri: "/v1/orders", method: .post, headers: Self.json, body: body),
                try await client.execute(uri: "/v1/orders", method: .post, headers: Self.headers([apiKey: "secret-3"]), body: body),
                try await client.execute(uri: "/v1/orders", method: .get, headers: [.authorization: "Bearer nope"]),
                try await client.execute(uri: "/v1/orders", method: .post, headers: Self.headers([apiKey: "secret-2"]), body: body),
                try await client.execute(uri: "/v1/orders", method: .get, headers: [.authorization: "Bearer secret-1"]),
            ]
        }
        for response in responses[0..<3] {
            try Self.expectProblem(response, .unauthorized)
            #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
        }
        #expect(responses[3].status == .accepted)
        #expect(responses[4].status == .ok)
        #expect(try await harness.count("orders") == 1)
        try await harness.tearDown()
    }

    @Test func anUnknownOrMalformedIDIs404() async throws {
        let harness = try await OrderHarness.make()
        let responses = try await harness.withAPI { client in
            [
                try await client.execute(uri: "/v1/orders/\(UUID().uuidString.lowercased())", method: .get),
                try await client.execute(uri: "/v1/orders/not-an-id", method: .get),
            ]
        }
        for response in responses { try Self.expectProblem(response, .notFound) }
        try await harness.tearDown()
    }

    @Test func listingFiltersByCustomerAndStatusNewestFirst() async throws {
        let harness = try await OrderHarness.make()
        var request = OrderHarness.validRequest
        let first = try await harness.placeOrder(request)
        let second = try await harness.placeOrder(request)
        request.customer.id = "c-other"
        let other = try await harness.placeOrder(request)
        struct Listing: Decodable { var orders: [Order] }
        let (mine, limited, paid, bad) = try await harness.withAPI { client in
            let mine = try await client.execute(uri: "/v1/orders?customer_id=c-42", method: .get)
            let limited = try await client.execute(uri: "/v1/orders?limit=1", method: .get)
            let paid = try await client.execute(uri: "/v1/orders?status=PAID", method: .get)
            let bad = try await client.execute(uri: "/v1/orders?limit=500&status=LOST", method: .get)
            return (mine, limited, paid, bad)
        }
        #expect(mine.status == .ok)
        #expect(try JSONDecoder().decode(Listing.self, from: Data(buffer: mine.body)).orders.map(\.id) == [second.id, first.id])
        #expect(try JSONDecoder().decode(Listing.self, from: Data(buffer: limited.body)).orders.map(\.id) == [other.id])
        #expect(try JSONDecoder().decode(Listing.self, from: Data(buffer: paid.body)).orders.isEmpty)
        #expect(try Self.expectProblem(bad, .unprocessableContent).errors?.map(\.field) == ["status", "limit"])
        try await harness.tearDown()
    }
}
