import AMQP
import Contracts
import Foundation
import Messaging
import TestSupport
import Testing

/// The saga through its public doors: HTTP intake, the ingress exchange, the gateway's ledger,
/// the stock API. Every service runs as a process of its own against the real broker and database.
@Suite("EndToEnd checkout", .runningSystem(), .timeLimit(.minutes(5)))
struct CheckoutEndToEndTests {
    @Test func aPaidOrderInStockCompletesWithOneChargeStockHeldAndOneNotification() async throws {
        let checkout = try Checkout()
        let sku = try await checkout.stocked(5)
        let id = try await checkout.place(sku: sku, quantity: 2, price: 1250)
        let order = try await checkout.settled(id)
        #expect(order.status == "COMPLETED")
        #expect(order.totalCents == 2500)
        #expect(order.history.map(\.status) == ["PENDING", "PAID", "COMPLETED"])
        let ledger = try await checkout.ledger(id)
        #expect(ledger.successfulCharges.map(\.amountCents) == [2500])
        #expect(ledger.refunds.isEmpty)
        #expect(order.paymentId == ledger.successfulCharges.first?.chargeId)
        #expect(try await checkout.stock(sku) == Checkout.Stock(sku: sku, available: 3, reserved: 2))
        try await eventually { try await checkout.notifications(id) == 1 }
    }

    @Test func aSubscriberOfTheNotificationsExchangeHearsOnceAboutEachOrder() async throws {
        // Only the services declare orderly.notifications: binding to it fails unless notification-service did.
        let checkout = try Checkout()
        let probe = "e2e.probe.notifications.\(UUID().uuidString.prefix(8))"
        try await checkout.withBroker { try await $0.declare(.probe(exchange: Exchange.notifications, queue: probe)) }
        let sku = try await checkout.stocked(1)
        let id = try await checkout.place(sku: sku, quantity: 1)
        #expect(try await checkout.settled(id).status == "COMPLETED")
        try await eventually { try await checkout.notifications(id) == 1 }
        // Other tests' orders are heard too; everything that comes is read, and this order's counted: until
        // its event has come (the relay publishes after the commit, later on a busy machine), then a while
        // longer, so that a second one would be heard too.
        let deadline = ContinuousClock.now + .seconds(60)
        var heard = 0
        var quietRounds = 0
        while quietRounds < 3 && ContinuousClock.now < deadline {
            let round = try await checkout.withBroker { broker in
                try await broker.consume(queue: probe).collect(10_000, within: .seconds(1)).map { delivery in
                    delivery.ack()
                    return delivery.properties
                }
            }
            heard += round.filter { $0.type == EventType.notificationSent.rawValue && $0.correlationID == id }.count
            if heard > 0 { quietRounds += 1 }
        }
        #expect(heard == 1)
        try await checkout.withBroker { try await $0.delete(queue: probe) }
    }

    @Test func aDeclinedCardFailsTheOrderWithoutChargeOrStockChange() async throws {
        let checkout = try Checkout()
        let sku = try await checkout.stocked(5)
        let id = try await checkout.place(sku: sku, token: "tok_decline")
        let order = try await checkout.settled(id)
        #expect(order.status == "FAILED")
        #expect(order.failureReason != nil)
        #expect(try await checkout.ledger(id).successfulCharges.isEmpty)
        #expect(try await checkout.stock(sku) == Checkout.Stock(sku: sku, available: 5, reserved: 0))
        try await eventually { try await checkout.notifications(id) == 1 }
    }

    @Test func stockShortAfterPaymentCancelsWithOneChargeAndOneRefundOfTheSameAmount() async throws {
        let checkout = try Checkout()
        let sku = try await checkout.stocked(1)
        let id = try await checkout.place(sku: sku, quantity: 3, price: 999)
        let order = try await checkout.settled(id)
        #expect(order.status == "CANCELLED")
        let ledger = try await checkout.ledger(id)
        #expect(ledger.successfulCharges.map(\.amountCents) == [2997])
        #expect(ledger.refunds.map(\.amountCents) == [2997])
        #expect(ledger.refunds.first?.chargeId == ledger.successfulCharges.first?.chargeId)
        #expect(try await checkout.stock(sku) == Checkout.Stock(sku: sku, available: 1, reserved: 0))
        try await eventually { try await checkout.notifications(id) == 1 }
    }

    @Test func aFlakyGatewayIsRetriedThroughTheTiersAndChargesOnce() async throws {
        let checkout = try Checkout()
        let sku = try await checkout.stocked(2)
        let id = try await checkout.place(sku: sku, quantity: 1, price: 500, token: "tok_flaky")
        let order = try await checkout.settled(id)
        #expect(order.status == "COMPLETED")
        #expect(try await checkout.ledger(id).successfulCharges.count == 1)
    }

    @Test func twentyConcurrentRequestsWithOneIdempotencyKeyMakeOneOrder() async throws {
        let checkout = try Checkout()
        let sku = try await checkout.stocked(5)
        let key = UUID().uuidString
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<20 { group.addTask { try await checkout.place(sku: sku, quantity: 1, key: key) } }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(ids.count == 1)
        let id = try #require(ids.first)
        #expect(try await checkout.settled(id).status == "COMPLETED")
        #expect(try await checkout.ledger(id).successfulCharges.count == 1)
        #expect(try await checkout.stock(sku)?.reserved == 1)
    }

    @Test func fiftyOrdersRacingForTenUnitsCompleteExactlyTen() async throws {
        let checkout = try Checkout()
        let sku = try await checkout.stocked(10)
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<50 { group.addTask { try await checkout.place(sku: sku, quantity: 1, price: 700) } }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        var statuses: [String: Int] = [:]
        for id in ids {
            let order = try await checkout.settled(id, within: .seconds(180))
            statuses[order.status, default: 0] += 1
            let ledger = try await checkout.ledger(id)
            #expect(ledger.successfulCharges.count == 1)
            #expect(ledger.refunds.count == (order.status == "CANCELLED" ? 1 : 0))
        }
        #expect(statuses == ["COMPLETED": 10, "CANCELLED": 40])
        #expect(try await checkout.stock(sku) == Checkout.Stock(sku: sku, available: 0, reserved: 10))
    }

    @Test func ingressEventsTakeEffectOnceEvenWhenPublishedTwice() async throws {
        let checkout = try Checkout()
        let sku = try await checkout.stocked(4)
        // stock.adjusted twice with one event id: applied once.
        let adjustment = UUID().uuidString
        try await checkout.adjust(sku, by: 6, eventID: adjustment)
        try await checkout.adjust(sku, by: 6, eventID: adjustment)
        try await eventually { try await checkout.stock(sku)?.available == 10 }
        try await Task.sleep(for: .seconds(1))
        #expect(try await checkout.stock(sku)?.available == 10)

        // order.requested twice with one event id: one order.
        let customer = "ingress-\(UUID().uuidString.prefix(8))"
        let request = OrderRequest(
            customer: Customer(id: customer, email: "grace@example.com"), currency: "EUR",
            items: [OrderLine(sku: sku, quantity: 1, unitPriceCents: 4200)], payment: PaymentMethod(token: "tok_ok")
        )
        let event = try CloudEvent(source: "/tests/marketplace", type: EventType.orderRequested.rawValue, subject: customer, payload: request)
        try await checkout.publish(event.amqpMessage(), routingKey: event.type)
        try await checkout.publish(event.amqpMessage(), routingKey: event.type)

        let found = try await checkout.orders(ofCustomer: customer)
        #expect(found.count == 1)
        if let id = found.first?.id { #expect(try await checkout.settled(id).status == "COMPLETED") }
    }

    @Test func aFreeOrderIsRefusedAtTheIntakeAndParkedFromTheIngress() async throws {
        let checkout = try Checkout()
        let sku = try await checkout.stocked(1)
        let response = try await checkout.system.request(.POST, path: "/v1/orders", body: Checkout.body(sku: sku, quantity: 1, price: 0))
        #expect(response.status == 422)
        #expect(String(decoding: response.body, as: UTF8.self).contains("free orders are not taken"))

        let customer = "free-\(UUID().uuidString.prefix(8))"
        let request = OrderRequest(
            customer: Customer(id: customer, email: "grace@example.com"), currency: "EUR",
            items: [OrderLine(sku: sku, quantity: 1, unitPriceCents: 0)], payment: PaymentMethod(token: "tok_ok"))
        let event = try CloudEvent(source: "/tests/marketplace", type: EventType.orderRequested.rawValue, subject: customer, payload: request)
        try await checkout.publish(event.amqpMessage(), routingKey: event.type)
        let reasons = try await checkout.parkedReasons(in: "order.dead", for: [event.id])
        #expect(reasons[event.id]?.contains("free orders are not taken") == true, "\(reasons)")
        #expect(try await checkout.stock(sku) == Checkout.Stock(sku: sku, available: 1, reserved: 0))
    }

    @Test func malformedAndUnknownIngressEventsAreParkedAndTheConsumerGoesOn() async throws {
        let checkout = try Checkout()
        let malformed = "bad-json-\(UUID().uuidString)"
        try await checkout.publish(AMQPMessage("{this is not json", properties: AMQPProperties(messageID: malformed)), routingKey: "order.requested")
        let unknown = try CloudEvent(source: "/tests", type: "order.teleported", subject: "x", payload: ["x": 1])
        // Bound by its routing key, unknown by its type.
        try await checkout.publish(unknown.amqpMessage(), routingKey: "order.requested")

        let reasons = try await checkout.parkedReasons(in: "order.dead", for: [malformed, unknown.id])
        #expect(reasons[malformed] == "the body is not JSON")
        #expect(reasons[unknown.id]?.contains("order.teleported") == true)
        // Still consuming: a good order goes through.
        let sku = try await checkout.stocked(1)
        #expect(try await checkout.settled(try await checkout.place(sku: sku, quantity: 1)).status == "COMPLETED")
    }
}
