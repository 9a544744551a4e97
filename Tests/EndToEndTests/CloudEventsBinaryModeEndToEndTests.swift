import AMQP
import Contracts
import Foundation
import Messaging
import TestSupport
import Testing

/// Events from other systems in binary content mode, as the CloudEvents Python SDK's own bindings write
/// them (`cloudevents` on PyPI, which the test command installs beside schemathesis): the RabbitMQ binding's
/// `ce-` headers and the AMQP binding's `cloudEvents_` properties, the data alone in the body.
@Suite("EndToEnd CloudEvents binary mode", .runningSystem(), .timeLimit(.minutes(3)))
struct CloudEventsBinaryModeEndToEndTests {
    /// The Python of the test command's tools, where the SDK is installed.
    static var python: URL { OpenAPIConformanceEndToEndTests.schemathesis.deletingLastPathComponent().appendingPathComponent("python") }

    /// What the script is given: the binding, the event's attributes, and its data.
    struct Spec<Payload: Encodable>: Encodable {
        var binding: String
        var attributes: [String: String]
        var data: Payload
    }

    /// What the script prints: the message the binding made.
    struct Written: Decodable {
        struct Header: Decodable {
            var string: String?
            var timestamp: Double?
        }
        var contentType: String?
        var headers: [String: Header]
        var body: String
    }

    /// The message the SDK's `binding` makes of an event with these attributes and data.
    static func written<Payload: Encodable>(binding: String, attributes: [String: String], data: Payload) async throws -> AMQPMessage {
        let spec = String(decoding: try JSONEncoder().encode(Spec(binding: binding, attributes: attributes, data: data)), as: UTF8.self)
        let script = TestEnvironment.repositoryRoot.appendingPathComponent("Tests/EndToEndTests/cloudevents_binary.py")
        try #require(FileManager.default.isExecutableFile(atPath: python.path), "no \(python.path): ./infra/dev test installs it with the SDK")
        let run = try await Command.run(python, [script.path, spec])
        try #require(run.status == 0, "the SDK failed: \(run.stderr)")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let message = try decoder.decode(Written.self, from: Data(run.stdout.utf8))
        let headers = message.headers.mapValues { header -> AMQPFieldValue in
            if let seconds = header.timestamp { return .timestamp(Date(timeIntervalSince1970: seconds)) }
            return .string(header.string ?? "")
        }
        return AMQPMessage(message.body, properties: AMQPProperties(contentType: message.contentType, headers: headers, persistent: true))
    }

    @Test func aStockAdjustmentWrittenByTheSDKsRabbitMQBindingIsAppliedOnce() async throws {
        let checkout = try Checkout()
        let sku = try await checkout.stocked(4)
        let attributes = [
            "id": UUID().uuidString, "source": "/tests/warehouse", "type": EventType.stockAdjusted.rawValue, "subject": sku,
            "datacontenttype": "application/json",
        ]
        let message = try await Self.written(
            binding: "rabbitmq", attributes: attributes, data: StockAdjusted(sku: sku, delta: 6, reason: "delivery"))
        #expect(message.properties.headers["ce-specversion"] == "1.0", "binary mode, as the SDK writes it")
        // Published twice, as a sender retrying after a lost confirm would: applied once.
        try await checkout.publish(message, routingKey: EventType.stockAdjusted.rawValue)
        try await checkout.publish(message, routingKey: EventType.stockAdjusted.rawValue)
        try await eventually { try await checkout.stock(sku)?.available == 10 }
        try await Task.sleep(for: .seconds(1))
        #expect(try await checkout.stock(sku)?.available == 10)
    }

    @Test func anOrderWrittenByTheSDKsAMQPBindingIsPlacedOnceAndCompletes() async throws {
        let checkout = try Checkout()
        let sku = try await checkout.stocked(2)
        let customer = "binary-\(UUID().uuidString.prefix(8))"
        let request = OrderRequest(
            customer: Customer(id: customer, email: "grace@example.com"), currency: "EUR",
            items: [OrderLine(sku: sku, quantity: 1, unitPriceCents: 4200)], payment: PaymentMethod(token: "tok_ok"))
        let attributes = [
            "id": UUID().uuidString, "source": "/tests/marketplace", "type": EventType.orderRequested.rawValue, "subject": customer,
            "time": "2026-12-02T10:00:00Z",
        ]
        let message = try await Self.written(binding: "amqp", attributes: attributes, data: request)
        #expect(message.properties.headers["cloudEvents_time"] == .timestamp(Date(timeIntervalSince1970: 1_796_205_600)))
        try await checkout.publish(message, routingKey: EventType.orderRequested.rawValue)
        try await checkout.publish(message, routingKey: EventType.orderRequested.rawValue)

        let found = try await checkout.orders(ofCustomer: customer)
        #expect(found.count == 1)
        if let id = found.first?.id { #expect(try await checkout.settled(id).status == "COMPLETED") }
    }

    @Test func aMessageInNeitherModeIsParkedWithItsReason() async throws {
        let checkout = try Checkout()
        let id = UUID().uuidString
        let message = AMQPMessage(
            #"{"sku":"SKU-X","delta":1}"#, properties: AMQPProperties(contentType: "application/json", persistent: true, messageID: id))
        try await checkout.publish(message, routingKey: EventType.stockAdjusted.rawValue)
        let reasons = try await checkout.parkedReasons(in: "inventory.dead", for: [id])
        #expect(reasons[id] == "missing CloudEvents attribute 'specversion'")
    }
}
