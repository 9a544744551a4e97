import AMQP
import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Messaging
import Postgres
import Telemetry
import TestSupport
import Testing

@testable import Order

/// `GET /v1/orders/{id}/timeline`: what order-service journals in the saga's own transactions, read back
/// through the API against a real schema and broker.
@Suite("Order timeline", .timeLimit(.minutes(1)))
struct OrderTimelineTests {
    static let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    static let decoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }()

    /// The JSON of the API, as a client reads it (its snake_case keys converted).
    struct Timeline: Decodable {
        struct Event: Decodable {
            var eventId: String
            var type: String
            var outcome: String
            var emittedBy: String
            var source: String?
            var handledBy: String?
            var consumers: [String]
            var at: String
            var eventTime: String?
            var recordedAt: String
            var fromStatus: String?
            var toStatus: String?
            var reason: String?
            var traceId: String?
            var sinceStartMs: Int
            var sincePreviousMs: Int?
        }
        var orderId: String
        var status: String
        var traceId: String?
        var durationMs: Int
        var events: [Event]
    }

    func timeline(_ harness: OrderHarness, _ id: String) async throws -> (status: HTTPResponse.Status, body: ByteBuffer) {
        try await harness.withAPI { client in
            let response = try await client.execute(uri: "/v1/orders/\(id)/timeline", method: .get)
            return (response.status, response.body)
        }
    }

    @Test func aCompletedOrdersTimelineHasEveryEventItHandledAndEmittedInOrderWithItsTrace() async throws {
        let harness = try await OrderHarness.make()
        let connection = try await harness.connect()
        let order = try await harness.placeOrder()
        let id = order.id.description
        let succeeded = PaymentSucceeded(orderID: id, paymentID: "ch_1", amountCents: 2500, currency: "EUR", items: order.items)
        var published: [CloudEvent] = []
        try await running([harness.consumer(connection)]) {
            published.append(try await harness.publish(.paymentSucceeded, succeeded, subject: id, traceparent: Self.traceparent, on: connection))
            try await eventually { try await harness.order(order.id)?.status == .paid }
            published.append(
                try await harness.publish(
                    .stockReserved, StockReserved(orderID: id, items: order.items), subject: id, traceparent: Self.traceparent, on: connection))
            try await eventually { try await harness.order(order.id)?.status == .completed }
            // A late decline is journaled as ignored, with why.
            published.append(
                try await harness.publish(
                    .paymentFailed, PaymentFailed(orderID: id, reason: "card_declined"), subject: id, traceparent: Self.traceparent, on: connection))
            try await eventually { try await harness.count("order_events", where: "order_id = \(id) AND outcome = 'ignored'") == 1 }
        }
        let (status, body) = try await timeline(harness, id)
        #expect(status == .ok)
        let timeline = try Self.decoder.decode(Timeline.self, from: Data(buffer: body))
        #expect(timeline.orderId == id)
        #expect(timeline.status == "COMPLETED")
        let events = timeline.events
        #expect(events.map(\.type) == ["order.placed", "payment.succeeded", "stock.reserved", "order.completed", "payment.failed"])
        #expect(events.map(\.outcome) == ["emitted", "moved", "moved", "emitted", "ignored"])
        #expect(events.map(\.emittedBy) == ["order-service", "payment-service", "inventory-service", "order-service", "payment-service"])
        #expect(events.map(\.handledBy) == [nil, "order-service", "order-service", nil, "order-service"])
        #expect(events.map(\.toStatus) == ["PENDING", "PAID", "COMPLETED", "COMPLETED", nil])
        #expect(events.map(\.fromStatus) == [nil, "PENDING", "PAID", nil, "COMPLETED"])
        #expect(events[4].reason?.isEmpty == false)
        // The handled events are the ones published, with their source and time; the emitted ones are what the outbox holds.
        #expect(Array(events.map(\.eventId)[1...2]) + [events[4].eventId] == published.map(\.id))
        #expect(events[1].source == "/tests")
        // Its time as it travelled: to the millisecond.
        let eventTime = try #require(events[1].eventTime.flatMap(CloudEvent.parse))
        #expect(abs(eventTime.timeIntervalSince(published[0].time)) < 0.002)
        let emitted = try await harness.outbox().filter { $0.event.subject == id }.map(\.event)
        #expect([events[0].eventId, events[3].eventId] == emitted.map(\.id))
        #expect(events[0].consumers == ["payment-service"])
        #expect(events[3].consumers == ["notification-service"])
        // The outcome carries the trace of the event that ended the order.
        #expect(events[3].traceId == "0af7651916cd43dd8448eb211c80319c")
        #expect(events[1].traceId == "0af7651916cd43dd8448eb211c80319c")
        #expect(events[0].traceId == timeline.traceId)
        #expect(events.map(\.sinceStartMs) == events.map(\.sinceStartMs).sorted())
        #expect(events[0].sincePreviousMs == nil && events.dropFirst().allSatisfy { $0.sincePreviousMs != nil })
        try await harness.tearDown(connection: connection)
    }

    @Test func anIngressOrderStartsWithTheEventItCameFrom() async throws {
        let harness = try await OrderHarness.make()
        // Whole seconds: the timeline keeps milliseconds, and a sub-millisecond time could round either way.
        let requestedAt = Date(timeIntervalSince1970: (Date.now.timeIntervalSince1970 - 2).rounded(.down))
        let new = NewOrder(
            request: OrderHarness.validRequest, origin: .ingress(eventID: "ingress-\(UUID().uuidString)"),
            traceparent: try #require(TraceParent(Self.traceparent)),
            sagaDeadline: .seconds(60), sourceEvent: .init(source: "/warehouse", time: requestedAt))
        _ = try await harness.pool.transaction { try await harness.saga.place(new, in: $0) }
        let (status, body) = try await timeline(harness, new.id.uuid.uuidString)
        #expect(status == .ok)
        let timeline = try Self.decoder.decode(Timeline.self, from: Data(buffer: body))
        #expect(timeline.events.map(\.type) == ["order.requested", "order.placed"])
        let requested = try #require(timeline.events.first)
        #expect(requested.emittedBy == "ingress" && requested.source == "/warehouse" && requested.handledBy == "order-service")
        #expect(requested.outcome == "moved" && requested.toStatus == "PENDING")
        #expect(requested.eventTime == CloudEvent.format(requestedAt))
        #expect(requested.sinceStartMs == 0, "the timeline starts with the request, before the order was stored")
        #expect(timeline.events[1].sinceStartMs >= 1900)
        #expect(timeline.traceId == "0af7651916cd43dd8448eb211c80319c")
        try await harness.tearDown()
    }

    @Test func anOrderCancelledAtItsDeadlineShowsTheDeadlineAsOrderServicesOwnStep() async throws {
        let harness = try await OrderHarness.make { $0.sagaDeadline = .milliseconds(200) }
        let order = try await harness.placeOrder()
        try await Task.sleep(for: .milliseconds(300))
        let watcher = SagaDeadlineWatcher(saga: harness.saga, pool: harness.pool, logger: TestEnvironment.logger(harness.name))
        #expect(try await watcher.sweep() == 1)
        let (_, body) = try await timeline(harness, order.id.uuid.uuidString)
        let events = try Self.decoder.decode(Timeline.self, from: Data(buffer: body)).events
        #expect(events.map(\.type) == ["order.placed", "saga.deadline", "order.cancelled"])
        #expect(events[1].emittedBy == "order-service" && events[1].handledBy == "order-service")
        #expect(events[1].toStatus == "CANCELLED")
        #expect(events[1].traceId == events[0].traceId, "the deadline carries the order's own trace")
        try await harness.tearDown()
    }

    @Test func anUnknownOrderIs404AndAMalformedIdIs400() async throws {
        let harness = try await OrderHarness.make()
        let (missing, missingBody) = try await timeline(harness, UUID().uuidString)
        #expect(missing == .notFound)
        #expect(String(buffer: missingBody).contains("there is no order"))
        try await harness.withAPI { client in
            let response = try await client.execute(uri: "/v1/orders/not-a-uuid/timeline", method: .get)
            let problem = try OrderAPITests.expectProblem(response, .badRequest)
            #expect(problem.detail?.contains("not an order id") == true)
        }
        try await harness.tearDown()
    }

    @Test func theTimelineAsksForTheAPIKeyAsTheRestOfTheIntake() async throws {
        let harness = try await OrderHarness.make { $0.apiKeys = ["k1"] }
        let order = try await harness.placeOrder()
        try await harness.withAPI { client in
            let refused = try await client.execute(uri: "/v1/orders/\(order.id)/timeline", method: .get)
            #expect(refused.status == .unauthorized)
            let allowed = try await client.execute(
                uri: "/v1/orders/\(order.id)/timeline", method: .get, headers: [HTTPField.Name("X-API-Key")!: "k1"])
            #expect(allowed.status == .ok)
        }
        try await harness.tearDown()
    }
}

/// The timeline's rules without a database: who emitted what, and the durations.
@Suite struct OrderTimelineRulesTests {
    static let start = Date(timeIntervalSince1970: 1_790_000_000)

    func record(_ type: String, source: String?, at offset: TimeInterval?, recorded: TimeInterval, outcome: OrderTimeline.Outcome = .moved)
        -> OrderTimeline.Record
    {
        .init(
            eventID: UUID().uuidString, eventType: type, outcome: outcome, from: nil, to: nil, reason: nil, source: source,
            eventTime: offset.map { Self.start + $0 }, traceparent: nil, recordedAt: Self.start + recorded)
    }

    @Test func theEmitterIsTheCatalogsProcessOfTheSourceElseOfTheTypesExchange() {
        let timeline = OrderTimeline(
            orderID: OrderID(), status: .completed, traceparent: OrderTimelineTests.traceparent, createdAt: Self.start,
            records: [
                record("order.requested", source: "/orderly/cli", at: 0, recorded: 0.01),
                record("payment.succeeded", source: "/orderly/payment-service", at: 1, recorded: 1.2),
                record("stock.reserved", source: nil, at: nil, recorded: 2),
                record("saga.deadline", source: nil, at: nil, recorded: 3),
                record("something.else", source: "/elsewhere", at: 4, recorded: 4),
            ])
        #expect(timeline.entries.map(\.emittedBy) == ["ingress", "payment-service", "inventory-service", "order-service", "/elsewhere"])
        #expect(timeline.entries.map(\.consumers) == [["order-service"], ["order-service", "inventory-service"], ["order-service"], [], []])
    }

    @Test func durationsRunFromTheOrdersCreationOrItsFirstEventIfEarlier() {
        let timeline = OrderTimeline(
            orderID: OrderID(), status: .paid, traceparent: OrderTimelineTests.traceparent, createdAt: Self.start + 0.5,
            records: [
                record("order.requested", source: "/x", at: 0, recorded: 0.5),
                record("order.placed", source: "/orderly/order-service", at: 0.5, recorded: 0.5, outcome: .emitted),
                record("payment.succeeded", source: nil, at: nil, recorded: 1.75),
            ])
        #expect(timeline.entries.map(\.sinceStart) == [.zero, .milliseconds(500), .milliseconds(1750)])
        #expect(timeline.entries.map(\.sincePrevious) == [nil, .milliseconds(500), .milliseconds(1250)])
        #expect(timeline.entries.map(\.handledBy) == ["order-service", nil, "order-service"])
        #expect(timeline.duration == .milliseconds(1750))
        #expect(timeline.traceID == "0af7651916cd43dd8448eb211c80319c")
    }
}
