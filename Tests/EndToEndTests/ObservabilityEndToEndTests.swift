import AMQP
import Contracts
import Foundation
import LocalRun
import Messaging
import TestSupport
import Testing

/// What an operator sees of a few orders: every service's `/metrics`, and their JSON logs, in which one
/// order's lines share the trace id that its HTTP request sent.
@Suite("EndToEnd observability", .runningSystem(), .timeLimit(.minutes(5)))
struct ObservabilityEndToEndTests {
    static let services = ["order-service", "payment-service", "inventory-service", "notification-service"]

    /// Places an order with a `traceparent` of its own and returns the order's id and the trace id sent.
    static func place(_ checkout: Checkout, sku: String, token: String = "tok_ok") async throws -> (id: String, traceID: String) {
        let traceID = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let response = try await checkout.system.request(
            .POST, path: "/v1/orders", body: Checkout.body(sku: sku, quantity: 1, token: token),
            headers: [("Content-Type", "application/json"), ("traceparent", "00-\(traceID)-00f067aa0ba902b7-01")])
        #expect(response.status == 202)
        return (try Checkout.decoder.decode(Checkout.Order.self, from: response.body).id, traceID)
    }

    @Test func everyServiceShowsItsMetricsAndOneOrdersLinesShareTheTraceItsRequestSent() async throws {
        let checkout = try Checkout()
        let sku = try await checkout.stocked(10)
        var orders = [try await Self.place(checkout, sku: sku), try await Self.place(checkout, sku: sku)]
        orders.append(try await Self.place(checkout, sku: sku, token: "tok_flaky"))
        // Unknown to the order-service: parked, and counted as such under the type `other`.
        let unknown = try CloudEvent(source: "/tests", type: "order.teleported", subject: "x", payload: ["x": 1])
        try await checkout.publish(unknown.amqpMessage(), routingKey: EventType.orderRequested.rawValue)
        for order in orders {
            #expect(try await checkout.settled(order.id).status == "COMPLETED")
            try await eventually { try await checkout.notifications(order.id) == 1 }
        }

        let expected: [String: [Sample]] = [
            "order-service": [
                .init("orderly_messages_consumed_total", ["type": "payment.succeeded", "outcome": "handled"], atLeast: 3),
                .init("orderly_messages_consumed_total", ["type": "stock.reserved", "outcome": "handled"], atLeast: 3),
                .init("orderly_messages_consumed_total", ["type": "other", "outcome": "parked"], atLeast: 1),
                .init("orderly_handler_duration_seconds_count", ["type": "payment.succeeded"], atLeast: 1),
                .init("orderly_messages_published_total", ["type": "order.placed"], atLeast: 3),
                .init("orderly_messages_published_total", ["type": "order.completed"], atLeast: 3),
                .init("orderly_orders_outcome_total", ["status": "COMPLETED"], atLeast: 3),
                .init("orderly_orders_accepted_total", ["channel": "http"], atLeast: 3),
                .init("orderly_http_request_duration_seconds_count", ["route": "/v1/orders", "method": "POST", "status": "202"], atLeast: 3),
                .init("orderly_http_request_duration_seconds_count", ["route": "/v1/orders/{id}", "method": "GET", "status": "200"], atLeast: 3),
                .init("orderly_outbox_backlog", [:], atLeast: 0),
                .init("orderly_outbox_oldest_age_seconds", [:], atLeast: 0),
            ],
            "payment-service": [
                .init("orderly_messages_consumed_total", ["type": "order.placed", "outcome": "handled"], atLeast: 3),
                .init("orderly_messages_consumed_total", ["type": "order.placed", "outcome": "retried"], atLeast: 1),
                .init("orderly_handler_duration_seconds_bucket", ["type": "order.placed", "le": "+Inf"], atLeast: 1),
                .init("orderly_messages_published_total", ["type": "payment.succeeded"], atLeast: 3),
                .init("orderly_outbox_backlog", [:], atLeast: 0),
            ],
            "inventory-service": [
                .init("orderly_messages_consumed_total", ["type": "payment.succeeded", "outcome": "handled"], atLeast: 3),
                .init("orderly_messages_consumed_total", ["type": "stock.adjusted", "outcome": "handled"], atLeast: 1),
                .init("orderly_messages_published_total", ["type": "stock.reserved"], atLeast: 3),
                .init("orderly_http_request_duration_seconds_count", ["route": "/v1/stock/{sku}", "method": "GET", "status": "200"], atLeast: 1),
            ],
            "notification-service": [
                .init("orderly_messages_consumed_total", ["type": "order.completed", "outcome": "handled"], atLeast: 3),
                .init("orderly_messages_published_total", ["type": "notification.sent"], atLeast: 3),
                .init("orderly_handler_duration_seconds_count", ["type": "order.completed"], atLeast: 1),
            ],
            "gateway-sim": [
                .init("orderly_http_request_duration_seconds_count", ["route": "/v1/charges", "method": "POST", "status": "201"], atLeast: 3)
            ],
        ]
        for (service, samples) in expected.sorted(by: { $0.key < $1.key }) {
            var text = ""
            // The published counters follow the relay's confirms, the outbox gauges a 5 s refresh.
            try await eventually(within: .seconds(20), "the metrics of \(service)") {
                text = String(decoding: try await checkout.system.request(.GET, service: service, path: "/metrics").body, as: UTF8.self)
                return samples.allSatisfy { $0.isMet(in: text) }
            }
            for sample in samples where !sample.isMet(in: text) {
                Issue.record(
                    "\(service): no \(sample) in its /metrics:\n\(text.split(separator: "\n").filter { $0.hasPrefix(sample.name) }.joined(separator: "\n"))"
                )
            }
        }

        for order in orders {
            for service in Self.services {
                let lines = try Self.logLines(of: service, in: checkout.system).filter { $0["order.id"] as? String == order.id }
                #expect(!lines.isEmpty, "\(service) logged nothing about order \(order.id)")
                let traces = Set(lines.map { $0["trace.id"] as? String ?? "none" })
                #expect(traces == [order.traceID], "\(service)'s lines about order \(order.id) have the traces \(traces)")
                #expect(lines.allSatisfy { ($0["span.id"] as? String)?.count == 16 }, "\(service): a line about \(order.id) without its span")
                #expect(lines.allSatisfy { $0["service"] as? String == service && $0["level"] is String && $0["timestamp"] is String })
            }
            let intake = try Self.logLines(of: "order-service", in: checkout.system).filter {
                $0["order.id"] as? String == order.id && $0["message"] as? String == "order accepted"
            }
            #expect(intake.count == 1, "the intake's line about \(order.id)")
        }
    }

    /// The JSON lines of a service's log, each as an object; a line that is not JSON fails the test.
    static func logLines(of service: String, in system: SystemUnderTest) throws -> [[String: Any]] {
        let text = try String(contentsOf: system.local.log(of: LocalSystem.Instance(service)), encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            if object == nil { Issue.record("\(service) wrote a line that is not a JSON object: \(line)") }
            return object
        }
    }
}

/// A Prometheus sample the test expects: its name, some of its labels, and the least value (summed over
/// the samples that match).
struct Sample: CustomStringConvertible {
    var name: String
    var labels: [String: String]
    var atLeast: Double

    init(_ name: String, _ labels: [String: String], atLeast: Double) {
        self.name = name
        self.labels = labels
        self.atLeast = atLeast
    }

    var description: String { "\(name)\(labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }) >= \(atLeast)" }

    /// Whether Prometheus text has samples of this name with these labels, whose values add up to at least ``atLeast``.
    func isMet(in text: String) -> Bool {
        var found = false
        var total = 0.0
        for line in text.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            let sampleLabels = Dictionary(
                line[..<space].matches(of: /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/).map { (String($0.output.1), String($0.output.2)) }
            ) { first, _ in first }
            guard labels.allSatisfy({ sampleLabels[$0.key] == $0.value }) else { continue }
            found = true
            total += value
        }
        return found && total >= atLeast
    }
}
