import AMQP
import ContractDocuments
import Contracts
import Foundation
import Messaging
import MessagingConventions
import Order
import ServiceKit
import Testing

/// `docs/openapi.yaml` against the routes and payloads of the contract.
@Suite(.timeLimit(.minutes(1)))
struct OpenAPIContractTests {
    let document: ContractDocument
    var root: YAMLNode { document.root }

    init() throws {
        document = try ContractDocument.openAPI.get()
    }

    /// The default port of every process (design.md).
    static let ports = ["order-service": 8080, "payment-service": 8081, "inventory-service": 8082, "notification-service": 8083, "gateway-sim": 8090]

    func operation(_ route: HTTPRoute) -> YAMLNode? {
        root[["paths", route.path, route.method.lowercased()]]
    }

    /// The servers of an operation: its own, else its path's.
    func servers(_ route: HTTPRoute) -> [YAMLNode] {
        operation(route)?["servers"]?.items ?? root[["paths", route.path, "servers"]]?.items ?? []
    }

    @Test func theDocumentIsOpenAPI31() {
        #expect(root["openapi"]?.string == "3.1.0")
    }

    @Test func everyReferenceResolves() {
        for (at, target) in document.references() {
            #expect(document.schemas.resolve(target) != nil, "\(at): $ref '\(target)' points nowhere")
        }
    }

    @Test func theOperationsAreExactlyTheRoutesOfTheContract() {
        let methods: Set = ["get", "put", "post", "delete", "patch", "head", "options"]
        var documented: Set<String> = []
        for path in root["paths"]?.entries ?? [] {
            for entry in path.value.entries where methods.contains(entry.key) { documented.insert("\(entry.key.uppercased()) \(path.key)") }
        }
        let contract = Set(HTTPRoute.all.map(\.description))
        #expect(documented.subtracting(contract).sorted() == [], "documented but not in HTTPRoute.all")
        #expect(contract.subtracting(documented).sorted() == [], "in HTTPRoute.all but not documented")
    }

    @Test(arguments: HTTPRoute.all)
    func everyRouteIsServedOnThePortOfItsService(route: HTTPRoute) {
        let documented = servers(route).map { "\($0["description"]?.string ?? "?") \($0["url"]?.string ?? "?")" }
        let services = route.servers.sorted { Self.ports[$0]! < Self.ports[$1]! }
        #expect(documented == services.map { "\($0) http://127.0.0.1:\(Self.ports[$0]!)" })
    }

    @Test(arguments: HTTPRoute.all)
    func everyPathParameterIsDocumented(route: HTTPRoute) {
        let names = route.path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) }
        // A parameter is written in place, or shared under components.parameters and referred to.
        let parameters = (operation(route)?["parameters"]?.items ?? []).map { parameter in
            parameter.reference.flatMap { document.schemas.resolve($0) } ?? parameter
        }.filter { $0["in"]?.string == "path" }
        #expect(parameters.compactMap { $0["name"]?.string } == names)
        #expect(parameters.allSatisfy { $0["required"]?.bool == true })
    }

    @Test func placingAnOrderDocumentsIdempotencyAuthenticationAndEveryError() throws {
        let place = try #require(operation(.placeOrder))
        let parameters = place["parameters"]?.items.compactMap { $0.reference.flatMap(document.schemas.resolve) ?? $0 } ?? []
        #expect(parameters.contains { $0["name"]?.string == "Idempotency-Key" && $0["in"]?.string == "header" })
        let accepted = try #require(place[["responses", "202"]])
        #expect(accepted[["headers", "Location", "required"]]?.bool == true)
        #expect(accepted[["headers", "Idempotent-Replayed"]] != nil)
        #expect(accepted[["content", "application/json", "schema"]]?.reference == "#/components/schemas/Order")
        for status in ["400", "401", "413", "415", "422"] {
            let response = try #require(place[["responses", status]], "POST /v1/orders documents no \(status)")
            let resolved = response.reference.flatMap(document.schemas.resolve) ?? response
            #expect(resolved[["content", "application/problem+json", "schema"]]?.reference == "#/components/schemas/Problem", "\(status)")
        }
        let schemes = place["security"]?.items.flatMap(\.keys) ?? []
        #expect(schemes == ["apiKey", "bearerKey"])
        #expect(root[["components", "securitySchemes", "apiKey", "name"]]?.string == "X-API-Key")
        #expect(root[["components", "securitySchemes", "apiKey", "in"]]?.string == "header")
        #expect(root[["components", "securitySchemes", "bearerKey", "scheme"]]?.string == "bearer")
        #expect(operation(.getOrder)?[["responses", "404"]] != nil)
        #expect(operation(.getStock)?[["responses", "404"]] != nil)
        let listParameters = operation(.listOrders)?["parameters"]?.items.compactMap { $0["name"]?.string } ?? []
        #expect(listParameters == ["customer_id", "status", "limit"])
    }

    @Test func theOrderRequestSchemaMatchesTheCodableStruct() throws {
        let schema = try #require(root[["components", "schemas", "OrderRequest"]])
        let sample = try JSONValue.encoding(PayloadSamples.full(.orderRequested))
        #expect(
            document.schemas.problems(of: sample, against: schema, at: "body", demands: [.everyPropertyPresent, .everyPresentPropertyRequired]) == [])
        #expect(
            root[["paths", "/v1/orders", "post", "requestBody", "content", "application/json", "schema"]]?.reference
                == "#/components/schemas/OrderRequest")
    }

    @Test func theOrderStatusesAreTheSixOfTheSaga() {
        let statuses = root[["components", "schemas", "OrderStatus", "enum"]]?.strings
        #expect(statuses == ["PENDING", "PAID", "COMPLETED", "FAILED", "REFUNDING", "CANCELLED"])
        // The outcome events carry the terminal ones.
        let asyncAPI = try? ContractDocument.asyncAPI.get()
        let terminal = asyncAPI?.root[["components", "schemas", "OrderOutcome", "properties", "status", "enum"]]?.strings
        #expect(terminal == ["COMPLETED", "FAILED", "CANCELLED"])
    }

    @Test func theProblemSchemaIsRFC9457WithFieldErrors() {
        let problem = root[["components", "schemas", "Problem"]]
        #expect(problem?["properties"]?.keys == ["type", "title", "status", "detail", "instance", "errors"])
        #expect(problem?[["properties", "errors", "items"]]?.reference == "#/components/schemas/FieldError")
        #expect(root[["components", "schemas", "FieldError", "required"]]?.strings == ["field", "message"])
    }

    @Test(arguments: ["Customer", "OrderLine", "PaymentMethod", "OrderRequest"])
    func theSchemasSharedWithTheEventsAreTheSame(name: String) throws {
        let asyncAPI = try ContractDocument.asyncAPI.get()
        let here = try #require(root[["components", "schemas", name]])
        let there = try #require(asyncAPI.root[["components", "schemas", name]])
        #expect(here == there, "components.schemas.\(name) differs between openapi.yaml and asyncapi.yaml")
    }
}

/// The operator's routes' JSON against `docs/openapi.yaml`: the timeline and the parking queues.
@Suite(.timeLimit(.minutes(1)))
struct OperatorRoutesContractTests {
    let document: ContractDocument

    init() throws {
        document = try ContractDocument.openAPI.get()
    }

    func problems(_ value: some Encodable, _ schema: String, _ demands: SchemaChecker.Demands) throws -> [String] {
        let reference = YAMLNode.mapping([.init(key: "$ref", value: .scalar("#/components/schemas/\(schema)", quoted: true))])
        return document.schemas.problems(of: try JSONValue.encoding(value), against: reference, demands: demands)
    }

    static let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    /// A timeline with an event of every outcome, some fields known and some not.
    static var timeline: OrderTimeline {
        let start = Date(timeIntervalSince1970: 1_790_000_000)
        return OrderTimeline(
            orderID: OrderID(), status: .completed, traceparent: traceparent, createdAt: start,
            records: [
                .init(
                    eventID: "e1", eventType: "order.placed", outcome: .emitted, from: nil, to: .pending, reason: nil,
                    source: "/orderly/order-service", eventTime: start, traceparent: traceparent, recordedAt: start),
                .init(
                    eventID: "e2", eventType: "payment.succeeded", outcome: .moved, from: .pending, to: .paid, reason: nil,
                    source: "/orderly/payment-service", eventTime: start + 0.2, traceparent: traceparent, recordedAt: start + 0.25),
                .init(
                    eventID: "e3", eventType: "payment.succeeded", outcome: .ignored, from: .paid, to: nil, reason: "a duplicate",
                    source: nil, eventTime: nil, traceparent: nil, recordedAt: start + 0.3),
            ])
    }

    @Test func theTimelineIsDocumented() throws {
        #expect(try problems(Self.timeline, "OrderTimeline", [.everyPropertyPresent, .everyPresentPropertyRequired]) == [])
        #expect(
            document.root[["paths", "/v1/orders/{id}/timeline", "get", "responses", "200", "content", "application/json", "schema"]]?.reference
                == "#/components/schemas/OrderTimeline")
        for status in ["400", "401", "404"] {
            #expect(document.root[["paths", "/v1/orders/{id}/timeline", "get", "responses", status]] != nil, "\(status)")
        }
    }

    /// A parked message with every header, and one with none.
    static let parked = [
        ParkedMessage(
            properties: AMQPProperties(
                headers: [
                    MessageHeaders.parkedReason: "not valid", MessageHeaders.lastError: "not valid", MessageHeaders.parkedAt: .timestamp(Date()),
                    MessageHeaders.attempts: 1, MessageHeaders.failureKind: "permanent", MessageHeaders.originalExchange: "orderly.payments",
                    MessageHeaders.originalRoutingKey: "payment.succeeded", MessageHeaders.replays: 2,
                ], correlationID: "an order", messageID: "m1", type: "payment.succeeded"), bodyBytes: 10),
        ParkedMessage(properties: AMQPProperties(), bodyBytes: 0),
    ]

    @Test func theParkingRoutesAreDocumented() throws {
        let listing = ParkingAdmin.Listing(
            service: "payment-service", queue: "payment.dead", workQueue: "payment", count: 2, messages: [Self.parked[1]])
        // The message without headers: what is always in a listing is required, down to its messages.
        #expect(try problems(listing, "ParkedListing", [.everyPresentPropertyRequired]) == [])
        #expect(try problems(Self.parked[0], "ParkedMessage", [.everyPropertyPresent]) == [])
        #expect(try problems(Self.parked[1], "ParkedMessage", [.everyPresentPropertyRequired]) == [])
        let replay = ParkingAdmin.Replay(service: "payment-service", queue: "payment.dead", workQueue: "payment", replayed: ["m1"], notFound: [])
        #expect(try problems(replay, "ParkedReplay", [.everyPropertyPresent, .everyPresentPropertyRequired]) == [])
        let names = document.root[["components", "parameters", "ServiceName", "schema", "enum"]]?.strings
        #expect(names == SystemCatalog.consumers.map(\.name))
    }
}
