import AMQP
import Contracts
import Foundation
import Messaging
import MessagingConventions
import NIOHTTP1
import TestSupport
import Testing

/// The operator's view of a running system: an order's timeline over HTTP, in the CLI and drawn by the
/// page in a real headless browser, and every service's parking queue listed and replayed through order-service.
@Suite("EndToEnd operator's page and timeline", .runningSystem(), .timeLimit(.minutes(5)), .serialized)
struct OpsEndToEndTests {
    /// Puts a `payment.succeeded` without most of its fields, which no consumer can ever handle, straight into
    /// a work queue, about `orderID`; waits until it is parked.
    func park(about orderID: String, in queues: ServiceQueues, _ checkout: Checkout) async throws -> String {
        let event = try CloudEvent(
            source: "/tests/ops", type: EventType.paymentSucceeded.rawValue, subject: orderID, payload: ["order_id": orderID])
        try await checkout.withBroker { try await $0.publish(event.amqpMessage(), exchange: "", routingKey: queues.workQueue) }
        _ = try await checkout.parkedReasons(in: queues.parkingQueue, for: [event.id])
        return event.id
    }

    /// A completed order placed with a trace context of our own.
    func completedOrder(_ checkout: Checkout, traceID: String) async throws -> String {
        let sku = try await checkout.stocked(5)
        let response = try await checkout.system.request(
            .POST, path: "/v1/orders", body: Checkout.body(sku: sku),
            headers: [("Content-Type", "application/json"), ("traceparent", "00-\(traceID)-00f067aa0ba902b7-01")])
        #expect(response.status == 202)
        let id = try Checkout.decoder.decode(Checkout.Order.self, from: response.body).id
        #expect(try await checkout.settled(id).status == "COMPLETED")
        return id
    }

    struct Timeline: Decodable {
        struct Event: Decodable {
            var type: String
            var outcome: String
            var emittedBy: String
            var handledBy: String?
            var traceId: String?
            var sinceStartMs: Int
        }
        var orderId: String
        var status: String
        var traceId: String?
        var events: [Event]
    }

    struct Listing: Decodable {
        struct Message: Decodable {
            var messageId: String?
            var type: String?
            var subject: String?
            var reason: String?
            var replays: Int
        }
        var service: String
        var queue: String
        var count: Int
        var messages: [Message]
    }

    var admin: [(String, String)] {
        get throws { [("X-Admin-Key", try #require(SystemUnderTest.current?.adminKey))] }
    }

    @Test func theTimelineOfACompletedOrderFollowsItThroughEveryServiceWithOneTrace() async throws {
        let checkout = try Checkout()
        let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
        let id = try await completedOrder(checkout, traceID: traceID)
        let response = try await checkout.system.request(.GET, path: "/v1/orders/\(id)/timeline")
        #expect(response.status == 200)
        let timeline = try Checkout.decoder.decode(Timeline.self, from: response.body)
        #expect(timeline.orderId == id && timeline.status == "COMPLETED")
        #expect(timeline.events.map(\.type) == ["order.placed", "payment.succeeded", "stock.reserved", "order.completed"])
        #expect(timeline.events.map(\.emittedBy) == ["order-service", "payment-service", "inventory-service", "order-service"])
        #expect(timeline.events.map(\.handledBy) == [nil, "order-service", "order-service", nil])
        // One trace from the HTTP request through payment and inventory and back.
        #expect(timeline.traceId == traceID)
        #expect(timeline.events.allSatisfy { $0.traceId == traceID })
        #expect(timeline.events.map(\.sinceStartMs) == timeline.events.map(\.sinceStartMs).sorted())

        let unknown = try await checkout.system.request(.GET, path: "/v1/orders/\(UUID().uuidString)/timeline")
        #expect(unknown.status == 404 && unknown.headers.first(name: "Content-Type") == "application/problem+json")
        #expect(try await checkout.system.request(.GET, path: "/v1/orders/nope/timeline").status == 400)
    }

    @Test func everyServicesParkingQueueIsListedAndReplayedThroughOrderService() async throws {
        let checkout = try Checkout()
        let orderID = UUID().uuidString.lowercased()
        let atOrder = try await park(about: orderID, in: Subscriptions.order, checkout)
        let atInventory = try await park(about: orderID, in: Subscriptions.inventory, checkout)
        for service in SystemCatalog.consumers {
            let response = try await checkout.system.request(.GET, path: "/v1/admin/services/\(service.name)/parked", headers: try admin)
            #expect(response.status == 200, "\(service.name): \(String(decoding: response.body, as: UTF8.self))")
            let listing = try Checkout.decoder.decode(Listing.self, from: response.body)
            #expect(listing.service == service.name && listing.queue == service.queues?.parkingQueue)
            let mine = listing.messages.filter { $0.subject == orderID }
            let expected = [SystemCatalog.order.name: [atOrder], SystemCatalog.inventory.name: [atInventory]][service.name] ?? []
            #expect(mine.map(\.messageId) == expected, "\(service.name)")
            #expect(
                mine.allSatisfy { $0.type == "payment.succeeded" && $0.reason?.contains("payment.succeeded is not valid") == true },
                "\(service.name): \(mine.map { "\($0.type ?? "-"): \($0.reason ?? "-")" })")
            // Each service answers for itself as well, as its own broker user.
            let own = try await checkout.system.request(.GET, service: service.name, path: "/v1/admin/parked?limit=5", headers: try admin)
            #expect(own.status == 200)
        }
        let refused = try await checkout.system.request(
            .GET, path: "/v1/admin/services/payment-service/parked", headers: [("X-Admin-Key", "not-the-key")])
        #expect(refused.status == 401)
        let unknown = try await checkout.system.request(.GET, path: "/v1/admin/services/gateway-sim/parked", headers: try admin)
        #expect(unknown.status == 404)

        // Replayed through order-service into inventory's work queue, the message fails again and is parked again, counted.
        let replay = try await checkout.system.request(
            .POST, path: "/v1/admin/services/inventory-service/parked/replay?message_id=\(atInventory)", headers: try admin)
        #expect(replay.status == 200, "\(String(decoding: replay.body, as: UTF8.self))")
        #expect(String(decoding: replay.body, as: UTF8.self).contains(#""replayed":["\#(atInventory)"]"#))
        try await eventually("the replayed message parked again") {
            let listing = try Checkout.decoder.decode(
                Listing.self,
                from: try await checkout.system.request(.GET, path: "/v1/admin/services/inventory-service/parked", headers: try admin).body)
            return listing.messages.first { $0.messageId == atInventory }?.replays == 1
        }
    }

    @Test func theParkingRoutesRefuseARequestWithoutTheAdminKeyAndReplayNothing() async throws {
        let checkout = try Checkout()
        let parked = try await park(about: UUID().uuidString.lowercased(), in: Subscriptions.payment, checkout)
        let payment = SystemCatalog.payment.name
        let routes: [(HTTPMethod, String, String)] = [
            (.GET, SystemCatalog.order.name, "/v1/admin/services/\(payment)/parked"),
            (.POST, SystemCatalog.order.name, "/v1/admin/services/\(payment)/parked/replay"),
            (.GET, payment, "/v1/admin/parked"), (.POST, payment, "/v1/admin/parked/replay"),
        ]
        for (method, service, path) in routes {
            // No key at all, and the intake's API key, which is not an admin key.
            for authenticated in [false, true] {
                let response = try await checkout.system.request(method, service: service, path: path, headers: [], authenticated: authenticated)
                #expect(response.status == 401, "\(method) \(path) on \(service), API key sent: \(authenticated)")
                #expect(response.headers.first(name: "Content-Type") == "application/problem+json")
            }
        }
        // Refused means not done: the message is still parked, never replayed.
        let listing = try Checkout.decoder.decode(
            Listing.self, from: try await checkout.system.request(.GET, service: payment, path: "/v1/admin/parked", headers: try admin).body)
        #expect(listing.messages.first { $0.messageId == parked }?.replays == 0)
    }

    /// `chromium`, which `./infra/dev test` installs; elsewhere the browser test is skipped unless `ORDERLY_REQUIRE_CHROMIUM=1`.
    static let chromium = Command.find("chromium")
    static let chromiumRequired = ProcessInfo.processInfo.environment["ORDERLY_REQUIRE_CHROMIUM"] == "1"

    /// Runs headless Chromium on `url` with `arguments` (`--dump-dom`, `--screenshot=…`).
    func browse(_ url: String, _ arguments: [String]) async throws -> Command {
        let chromium = try #require(Self.chromium, "chromium is not installed: apt-get install chromium (./infra/dev test installs it)")
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        // --no-sandbox: the tests run as root, where Chromium's sandbox does not start. The virtual time budget lets
        // the page's requests finish before the DOM is written out.
        return try await Command.run(
            chromium,
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars", "--user-data-dir=\(profile.path)",
                "--virtual-time-budget=20000",
            ] + arguments + [url], timeout: .seconds(90))
    }

    @Test(.enabled(if: chromium != nil || chromiumRequired, "chromium is not installed"))
    func thePageDrawsTheTimelineAndTheParkingQueuesInAHeadlessBrowser() async throws {
        let checkout = try Checkout()
        let system = checkout.system
        let traceID = "0af7651916cd43dd8448eb211c80319c"
        let id = try await completedOrder(checkout, traceID: traceID)
        let parked = try await park(about: id, in: Subscriptions.order, checkout)
        let apiKey = try #require(system.apiKey)
        let adminKey = try #require(system.adminKey)
        let url = system.local.url(.init(SystemCatalog.order.name)) + "/ops#order=\(id)&api_key=\(apiKey)&admin_key=\(adminKey)"

        let page = try await browse(url, ["--dump-dom"])
        #expect(page.status == 0, "chromium: \(page.stderr.suffix(2000))")
        let dom = page.stdout
        // What only the script could have put there, once its requests were answered.
        #expect(dom.contains(#"data-state="ready""#), "the page's requests did not finish: \(dom.prefix(3000))")
        for type in ["order.placed", "payment.succeeded", "stock.reserved", "order.completed"] {
            #expect(dom.contains(#"data-event-type="\#(type)""#), "\(type) is not drawn")
        }
        #expect(dom.contains(#"id="order-status">COMPLETED<"#))
        #expect(dom.contains(#"id="trace-id">\#(traceID)<"#))
        #expect(dom.contains("parked: payment.succeeded"), "the parked message about the order is not in its timeline")
        for service in SystemCatalog.consumers { #expect(dom.contains(#"data-service="\#(service.name)""#), "\(service.name)'s parking queue") }
        #expect(dom.contains(#"data-message-id="\#(parked)""#))
        #expect(!dom.contains(apiKey) && !dom.contains(adminKey), "the keys stay out of the page")

        // `ORDERLY_SCREENSHOT_DIR=docs swift test --filter OpsEndToEnd` renews the README's picture.
        if let folder = ProcessInfo.processInfo.environment["ORDERLY_SCREENSHOT_DIR"] {
            let path = URL(fileURLWithPath: folder).appendingPathComponent("timeline.png").path
            let shot = try await browse(url, ["--screenshot=\(path)", "--window-size=1280,900"])
            #expect(shot.status == 0 && FileManager.default.fileExists(atPath: path), "chromium: \(shot.stderr.suffix(2000))")
        }
    }

    @Test func theCLIPrintsTheOrderAndItsTimelineAndSaysWhenThereIsNone() async throws {
        let checkout = try Checkout()
        let id = try await completedOrder(checkout, traceID: "5bf92f3577b34da6a3ce929d0e0e4737")
        let orderly = SystemUnderTest.binDirectory.appendingPathComponent("orderly")
        let options = [
            "--order-url", checkout.system.local.url(.init(SystemCatalog.order.name)), "--api-key", try #require(checkout.system.apiKey),
        ]

        let show = try await Command.run(orderly, ["orders", "show", id] + options)
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.hasPrefix("order \(id)  COMPLETED"))
        #expect(show.stdout.contains("PENDING") && show.stdout.contains("PAID"))

        let timeline = try await Command.run(orderly, ["orders", "timeline", id] + options)
        #expect(timeline.status == 0, "\(timeline.stderr)")
        #expect(timeline.stdout.contains("trace 5bf92f3577b34da6a3ce929d0e0e4737"))
        for line in ["order.placed", "payment-service → order-service", "stock.reserved", "order.completed"] {
            #expect(timeline.stdout.contains(line), "\(line) in:\n\(timeline.stdout)")
        }

        let json = try await Command.run(orderly, ["orders", "timeline", id, "--json"] + options)
        #expect(json.status == 0)
        let decoded = try Checkout.decoder.decode(Timeline.self, from: Data(json.stdout.utf8))
        #expect(decoded.events.count == 4)

        let missing = UUID().uuidString.lowercased()
        let unknown = try await Command.run(orderly, ["orders", "show", missing] + options)
        #expect(unknown.status == 1)
        #expect(unknown.stdout.isEmpty)
        #expect(unknown.stderr.trimmingCharacters(in: .newlines) == "orderly: error: no order \(missing)")

        let refused = try await Command.run(orderly, ["orders", "timeline", id, "--order-url", options[1], "--api-key", "wrong"])
        #expect(refused.status == 77 && refused.stderr.contains("refused the API key"))
        let malformed = try await Command.run(orderly, ["orders", "show", "not-an-id"] + options)
        #expect(malformed.status == 64 && malformed.stderr.contains("is not an order id"))
    }
}
