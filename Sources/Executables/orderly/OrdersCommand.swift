import ArgumentParser
import AsyncHTTPClient
import Contracts
import Foundation
import Messaging
import Provisioning

/// `orderly orders`: an order and its timeline, read from order-service's API.
struct OrdersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orders",
        abstract: "Read an order, or its timeline, from order-service.",
        discussion: """
            Exit status: 0 when the order was read; 1 when there is no such order, or order-service refused the \
            API key or could not be reached (one line on standard error says which); 64 for an id that is not a UUID.
            """,
        subcommands: [Show.self, Timeline.self]
    )

    struct Options: ParsableArguments {
        @Option(help: "order-service's base URL (default: $ORDERLY_ORDER_URL, else http://127.0.0.1:8080).")
        var orderURL: String?

        // The default is a secret, so help names where it comes from instead of showing it.
        @Option(help: "The intake's API key (default: $ORDERLY_API_KEY, else the local installation's secrets/api-key).")
        var apiKey: String?

        @Flag(help: "Print order-service's JSON as it answered, for scripts.")
        var json = false

        @Argument(help: "The order id, as in the Location of POST /v1/orders.")
        var id: String

        func validate() throws {
            guard OrderID(id) != nil else { throw ValidationError("'\(id)' is not an order id: order ids are UUIDs") }
        }

        var baseURL: String {
            let url = orderURL ?? Environment.value("ORDERLY_ORDER_URL") ?? "http://127.0.0.1:8080"
            return url.hasSuffix("/") ? String(url.dropLast()) : url
        }

        var key: String? {
            if let apiKey { return apiKey }
            if let key = Environment.value("ORDERLY_API_KEY") { return key }
            let secrets = Environment.value("ORDERLY_SECRETS_DIR") ?? "\(Environment.value("ORDERLY_DATA_DIR") ?? ".data")/secrets"
            return try? SecretStore(directory: URL(fileURLWithPath: secrets)).existingSecret("api-key")
        }

        /// `GET path` on order-service with the API key: the body of a `200`, else a ``Failure`` that says what went wrong.
        func get(_ path: String) async throws -> Data {
            var request = HTTPClientRequest(url: baseURL + path)
            request.headers.add(name: "Accept", value: "application/json")
            if let key { request.headers.add(name: "X-API-Key", value: key) }
            let status: UInt
            let body: Data
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(15))
                status = response.status.code
                body = Data((try await response.body.collect(upTo: 16 << 20)).readableBytesView)
            } catch {
                throw Failure(.unavailable, "cannot reach order-service at \(baseURL): \(error); is it running? (./infra/dev status)")
            }
            let detail = (try? JSONDecoder().decode(ProblemBody.self, from: body))?.detail ?? String(decoding: body.prefix(200), as: UTF8.self)
            switch status {
            case 200: return body
            case 404: throw Failure(.failure, "no order \(id.lowercased())")
            case 401, 403: throw Failure(.refused, "order-service refused the API key (\(status)): \(detail); set ORDERLY_API_KEY or --api-key")
            default: throw Failure(.failure, "order-service answered \(status): \(detail)")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print an order: status, customer, items, payment and status history.")
        @OptionGroup var options: Options

        func run() async throws {
            let body = try await options.get("/v1/orders/\(options.id)")
            if options.json { return printJSON(body) }
            print(try OrderView.text(JSONDecoder().decode(OrderView.self, from: body)), terminator: "")
        }
    }

    struct Timeline: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print every event of an order's saga that order-service handled or emitted, in order, with times and trace.")
        @OptionGroup var options: Options

        func run() async throws {
            let body = try await options.get("/v1/orders/\(options.id)/timeline")
            if options.json { return printJSON(body) }
            print(try TimelineView.text(JSONDecoder().decode(TimelineView.self, from: body)), terminator: "")
        }
    }

    struct ProblemBody: Decodable { var detail: String? }

    static func printJSON(_ body: Data) {
        FileHandle.standardOutput.write(body)
        if body.last != UInt8(ascii: "\n") { print() }
    }
}

/// The order as `orders show` prints it.
struct OrderView: Decodable {
    struct Customer: Decodable {
        var id: String
        var email: String
    }
    struct Line: Decodable {
        var sku: String
        var quantity: Int
        var unitPriceCents: Int

        enum CodingKeys: String, CodingKey {
            case sku, quantity
            case unitPriceCents = "unit_price_cents"
        }
    }
    struct Entry: Decodable {
        var status: String
        var at: String
    }
    var id: String
    var status: String
    var currency: String
    var totalCents: Int
    var customer: Customer
    var items: [Line]
    var paymentID: String?
    var failureReason: String?
    var history: [Entry]

    enum CodingKeys: String, CodingKey {
        case id, status, currency, customer, items, history
        case totalCents = "total_cents"
        case paymentID = "payment_id"
        case failureReason = "failure_reason"
    }

    static func text(_ order: OrderView) -> String {
        func money(_ cents: Int) -> String { String(format: "%d.%02d %@", cents / 100, cents % 100, order.currency) }
        var lines = ["order \(order.id)  \(order.status)"]
        lines.append("  customer  \(order.customer.id) <\(order.customer.email)>")
        lines.append("  total     \(money(order.totalCents))")
        for (index, item) in order.items.enumerated() {
            lines.append("\(index == 0 ? "  items     " : "            ")\(item.quantity) × \(item.sku) at \(money(item.unitPriceCents))")
        }
        lines.append("  payment   \(order.paymentID ?? "–")")
        if let reason = order.failureReason { lines.append("  failure   \(reason)") }
        let start = order.history.first.flatMap { CloudEvent.parse($0.at) }
        for (index, entry) in order.history.enumerated() {
            let offset = start.flatMap { start in CloudEvent.parse(entry.at).map { TimelineView.duration($0.timeIntervalSince(start)) } }
            lines.append("\(index == 0 ? "  history   " : "            ")\(entry.at)  \(entry.status)\(index > 0 ? "  +\(offset ?? "?")" : "")")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// The timeline as `orders timeline` prints it.
struct TimelineView: Decodable {
    struct Event: Decodable {
        var eventID: String
        var type: String
        var outcome: String
        var emittedBy: String
        var handledBy: String?
        var consumers: [String]
        var at: String
        var fromStatus: String?
        var toStatus: String?
        var reason: String?
        var traceID: String?
        var sinceStartMs: Int

        enum CodingKeys: String, CodingKey {
            case type, outcome, consumers, at, reason
            case eventID = "event_id"
            case emittedBy = "emitted_by"
            case handledBy = "handled_by"
            case fromStatus = "from_status"
            case toStatus = "to_status"
            case traceID = "trace_id"
            case sinceStartMs = "since_start_ms"
        }
    }
    var orderID: String
    var status: String
    var traceID: String?
    var durationMs: Int
    var events: [Event]

    enum CodingKeys: String, CodingKey {
        case status, events
        case orderID = "order_id"
        case traceID = "trace_id"
        case durationMs = "duration_ms"
    }

    static func text(_ timeline: TimelineView) -> String {
        var lines = [
            "order \(timeline.orderID)  \(timeline.status)  trace \(timeline.traceID ?? "–")  "
                + "\(timeline.events.count) event(s) in \(duration(Double(timeline.durationMs) / 1000))"
        ]
        let rows = timeline.events.map { event -> [String] in
            let to = event.handledBy.map { [$0] } ?? event.consumers
            var what = event.outcome
            if event.fromStatus != nil || event.toStatus != nil { what += " \(event.fromStatus ?? "–") → \(event.toStatus ?? "–")" }
            if let reason = event.reason { what += " (\(reason))" }
            let trace = event.traceID == timeline.traceID ? "" : "  trace \(event.traceID ?? "–")"
            return [
                "+" + duration(Double(event.sinceStartMs) / 1000), clock(event.at), event.type,
                "\(event.emittedBy) → \(to.isEmpty ? "–" : to.joined(separator: ", "))", what + trace,
            ]
        }
        let widths = (0..<4).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            lines.append(
                "  " + (0..<4).map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ") + "  " + row[4])
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The time of day of an RFC 3339 time, `HH:MM:SS.mmm`.
    static func clock(_ text: String) -> String {
        guard let t = text.firstIndex(of: "T") else { return text }
        return String(text[text.index(after: t)...].prefix(12))
    }

    /// `350 ms`, `1.25 s`, `2 min 5 s`.
    static func duration(_ seconds: Double) -> String {
        if abs(seconds) < 1 { return "\(Int((seconds * 1000).rounded())) ms" }
        if abs(seconds) < 120 { return String(format: "%.2f s", seconds) }
        return "\(Int(seconds) / 60) min \(Int(seconds) % 60) s"
    }
}
