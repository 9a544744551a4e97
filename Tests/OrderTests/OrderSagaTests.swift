import AMQP
import Contracts
import Foundation
import Messaging
import MessagingConventions
import Postgres
import Telemetry
import TestSupport
import Testing

@testable import Order

/// The order's side of the saga against the real broker and database, on queues and exchanges of
/// its own: events in, final status and history, and exactly one outcome event in the outbox.
@Suite("Order saga", .timeLimit(.minutes(1)))
struct OrderSagaTests {
    static let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    func orderID(_ order: Order) -> String { order.id.description }

    func outcomes(_ harness: OrderHarness, of order: Order) async throws -> [CloudEvent] {
        try await harness.outbox().map(\.event).filter { $0.subject == orderID(order) && $0.type != EventType.orderPlaced.rawValue }
    }

    func waitForStatus(_ status: OrderStatus, of order: Order, _ harness: OrderHarness) async throws {
        try await eventually("order \(orderID(order)) becomes \(status.rawValue)") { try await harness.order(order.id)?.status == status }
    }

    /// Waits until the work queue is drained and `count` events it handled were journaled for the order
    /// (those it emitted, journaled with them, left out).
    func waitForJournal(_ count: Int, of order: Order, _ harness: OrderHarness) async throws {
        try await eventually("\(count) events journaled for \(orderID(order))") {
            try await harness.count("order_events", where: "order_id = \(orderID(order)) AND outcome <> 'emitted'") >= count
        }
    }

    @Test func aPaidOrderWithStockCompletesOnceWhateverTheRedeliveriesAndRaces() async throws {
        let harness = try await OrderHarness.make()
        let connection = try await harness.connect()
        let order = try await harness.placeOrder()
        let id = orderID(order)
        let succeeded = PaymentSucceeded(orderID: id, paymentID: "ch_1", amountCents: 2500, currency: "EUR", items: order.items)
        try await running([harness.consumer(connection)]) {
            // Both fan out of one publication in the real saga, so stock news can overtake the payment.
            let payment = try await harness.publish(.paymentSucceeded, succeeded, subject: id, on: connection)
            try await harness.publish(
                .stockReserved, StockReserved(orderID: id, items: order.items), subject: id, traceparent: Self.traceparent, on: connection)
            try await waitForStatus(.completed, of: order, harness)
            // Redelivered, duplicated and late events change nothing.
            try await harness.publish(.paymentSucceeded, succeeded, subject: id, id: payment.id, on: connection)
            try await harness.publish(.paymentFailed, PaymentFailed(orderID: id, reason: "card_declined"), subject: id, on: connection)
            try await harness.publish(.stockReserved, StockReserved(orderID: id, items: order.items), subject: id, on: connection)
            try await waitForJournal(4, of: order, harness)
        }
        let final = try #require(try await harness.order(order.id))
        #expect(final.status == .completed)
        #expect(final.history.map(\.status) == [.pending, .paid, .completed])
        #expect(final.paymentID == "ch_1")
        #expect(final.failureReason == nil)
        let outcomes = try await outcomes(harness, of: order)
        #expect(outcomes.map(\.type) == ["order.completed"])
        let outcome = try #require(outcomes.first)
        // The outcome carries the span of the handling of stock.reserved: the same trace, a span of its own.
        #expect(outcome.traceparent.flatMap { TraceParent($0) }?.traceIDText == TraceParent(Self.traceparent)?.traceIDText)
        #expect(outcome.traceparent != Self.traceparent)
        #expect(outcome.source == "/orderly/order-service")
        let payload = try outcome.decodeData(as: OrderOutcome.self)
        #expect(payload == OrderOutcome(orderID: id, status: .completed, customer: order.customer, currency: "EUR", totalCents: 2500, reason: nil))
        let ignored = try await harness.count("order_events", where: "order_id = \(id) AND outcome = 'ignored'")
        #expect(ignored == 2)  // The late decline and the second reservation; the duplicate never got past the inbox.
        try await harness.tearDown(connection: connection)
    }

    @Test func stockNewsThatOvertakesThePaymentIsAppliedAfterItNotDropped() async throws {
        let harness = try await OrderHarness.make()
        let connection = try await harness.connect()
        let order = try await harness.placeOrder()
        let id = orderID(order)
        try await running([harness.consumer(connection)]) {
            try await harness.publish(.stockReserved, StockReserved(orderID: id, items: order.items), subject: id, on: connection)
            try await Task.sleep(for: .milliseconds(100))  // Handled and deferred to the first retry tier by now.
            #expect(try await harness.order(order.id)?.status == .pending)
            let paid = PaymentSucceeded(orderID: id, paymentID: "ch_2", amountCents: 2500, currency: "EUR", items: order.items)
            try await harness.publish(.paymentSucceeded, paid, subject: id, on: connection)
            try await waitForStatus(.completed, of: order, harness)
        }
        #expect(try await harness.order(order.id)?.history.map(\.status) == [.pending, .paid, .completed])
        #expect(try await outcomes(harness, of: order).map(\.type) == ["order.completed"])
        try await harness.tearDown(connection: connection)
    }

    @Test func aDeclinedPaymentFailsTheOrderAndALateSuccessCannotRevive() async throws {
        let harness = try await OrderHarness.make()
        let connection = try await harness.connect()
        let order = try await harness.placeOrder()
        let id = orderID(order)
        try await running([harness.consumer(connection)]) {
            try await harness.publish(.paymentFailed, PaymentFailed(orderID: id, reason: "card_declined"), subject: id, on: connection)
            try await waitForStatus(.failed, of: order, harness)
            let late = PaymentSucceeded(orderID: id, paymentID: "ch_9", amountCents: 2500, currency: "EUR", items: order.items)
            try await harness.publish(.paymentSucceeded, late, subject: id, on: connection)
            try await waitForJournal(2, of: order, harness)
        }
        let final = try #require(try await harness.order(order.id))
        #expect(final.status == .failed)
        #expect(final.history.map(\.status) == [.pending, .failed])
        #expect(final.failureReason == "card_declined")
        #expect(final.paymentID == nil)
        let outcomes = try await outcomes(harness, of: order)
        #expect(outcomes.map(\.type) == ["order.failed"])
        #expect(try outcomes.first?.decodeData(as: OrderOutcome.self).reason == "card_declined")
        try await harness.tearDown(connection: connection)
    }

    @Test func aShortageEndsCancelledAfterTheRefundAlsoWhenTheRefundOvertakes() async throws {
        let harness = try await OrderHarness.make()
        let connection = try await harness.connect()
        let inOrder = try await harness.placeOrder()
        let overtaken = try await harness.placeOrder()
        try await running([harness.consumer(connection)]) {
            for order in [inOrder, overtaken] {
                let id = orderID(order)
                let paid = PaymentSucceeded(orderID: id, paymentID: "ch_\(id.prefix(8))", amountCents: 2500, currency: "EUR", items: order.items)
                try await harness.publish(.paymentSucceeded, paid, subject: id, on: connection)
                try await waitForStatus(.paid, of: order, harness)
            }
            let shortage = { (order: Order) in StockReservationFailed(orderID: orderID(order), reason: "out of stock: SKU-001", missing: ["SKU-001"])
            }
            let refund = { (order: Order) in
                PaymentRefunded(orderID: orderID(order), paymentID: "ch", refundID: "re_1", amountCents: 2500, currency: "EUR")
            }
            try await harness.publish(.stockReservationFailed, shortage(inOrder), subject: orderID(inOrder), on: connection)
            try await waitForStatus(.refunding, of: inOrder, harness)
            try await harness.publish(.paymentRefunded, refund(inOrder), subject: orderID(inOrder), on: connection)

            try await harness.publish(.paymentRefunded, refund(overtaken), subject: orderID(overtaken), on: connection)
            try await waitForStatus(.cancelled, of: overtaken, harness)
            try await harness.publish(.stockReservationFailed, shortage(overtaken), subject: orderID(overtaken), on: connection)
            try await waitForStatus(.cancelled, of: inOrder, harness)
            try await waitForJournal(3, of: overtaken, harness)
        }
        let first = try #require(try await harness.order(inOrder.id))
        #expect(first.history.map(\.status) == [.pending, .paid, .refunding, .cancelled])
        #expect(first.failureReason == "out of stock: SKU-001")
        let second = try #require(try await harness.order(overtaken.id))
        #expect(second.history.map(\.status) == [.pending, .paid, .cancelled])
        #expect(second.failureReason == "payment refunded")
        for order in [inOrder, overtaken] {
            let outcomes = try await outcomes(harness, of: order)
            #expect(outcomes.map(\.type) == ["order.cancelled"])
            #expect(try outcomes.first?.decodeData(as: OrderOutcome.self).status == .cancelled)
        }
        try await harness.tearDown(connection: connection)
    }

    @Test func anOrderRequestedOnTheIngressIsPlacedOncePerEventAndAnInvalidOneIsParkedWithItsFields() async throws {
        let harness = try await OrderHarness.make()
        let connection = try await harness.connect()
        var request = OrderHarness.validRequest
        request.customer.id = "c-ingress"
        var invalid = request
        invalid.customer.email = "nobody"
        invalid.items[0].quantity = 0
        try await running([harness.consumer(connection)]) {
            let first = try await harness.publish(.orderRequested, request, subject: nil, traceparent: Self.traceparent, on: connection)
            // Published twice.
            try await harness.publish(.orderRequested, request, subject: nil, id: first.id, traceparent: Self.traceparent, on: connection)
            try await harness.publish(.orderRequested, request, subject: nil, on: connection)  // Another request for the same goods.
            try await harness.publish(.orderRequested, invalid, subject: nil, id: "bad-order", on: connection)
            try await eventually("two orders placed") { try await harness.count("orders") == 2 }
            let parked = try await connection.consume(queue: harness.configuration.queues.parkingQueue).collect(1, within: .seconds(10))
            #expect(parked.map(\.properties.messageID) == ["bad-order"])
            let reason = parked.first?.properties.headers[MessageHeaders.parkedReason]?.stringValue ?? ""
            #expect(reason.contains("customer.email"), "\(reason)")
            #expect(reason.contains("items[0].quantity"), "\(reason)")
            parked.first?.ack()
            #expect(try await harness.count("orders", where: "source_event_id = \(first.id)") == 1)
            let placed = try await harness.outbox().filter { $0.type == EventType.orderPlaced.rawValue }
            #expect(placed.count == 2)
            #expect(placed.contains { $0.event.traceparent.flatMap { TraceParent($0) }?.traceIDText == TraceParent(Self.traceparent)?.traceIDText })
        }
        let listed = try await harness.saga.store.orders(matching: OrderListQuery(customerID: "c-ingress"), on: harness.pool)
        #expect(listed.count == 2)
        #expect(listed.allSatisfy { $0.status == .pending && $0.totalCents == 2500 })
        try await harness.tearDown(connection: connection)
    }

    @Test func openOrdersPastTheirDeadlineAreCancelledOnceEvenWithTwoWatchers() async throws {
        let harness = try await OrderHarness.make { $0.sagaDeadline = .milliseconds(300) }
        let pending = try await harness.placeOrder()
        let paid = try await harness.placeOrder()
        let completed = try await harness.placeOrder()
        let logger = TestEnvironment.logger(harness.name)
        try await harness.pool.transaction { transaction in
            let saga = harness.saga
            try await saga.apply(
                .paymentSucceeded(paymentID: "ch_p"), toOrder: orderID(paid), eventID: "e1", traceparent: nil, in: transaction, logger: logger)
            try await saga.apply(
                .paymentSucceeded(paymentID: "ch_c"), toOrder: orderID(completed), eventID: "e2", traceparent: nil, in: transaction, logger: logger)
            try await saga.apply(.stockReserved, toOrder: orderID(completed), eventID: "e3", traceparent: nil, in: transaction, logger: logger)
        }
        let watchers = (0..<2).map { _ in
            SagaDeadlineWatcher(saga: harness.saga, pool: harness.pool, interval: .milliseconds(50), batchSize: 1, logger: logger)
        }
        try await running(watchers) {
            try await eventually("both open orders cancelled") {
                try await harness.count("orders", where: "status = 'CANCELLED'") == 2
            }
            try await Task.sleep(for: .milliseconds(200))  // Let both watchers go round again.
        }
        for order in [pending, paid] {
            let final = try #require(try await harness.order(order.id))
            #expect(final.status == .cancelled)
            #expect(final.failureReason == "deadline exceeded")
            #expect(final.history.last?.status == .cancelled)
            let outcomes = try await outcomes(harness, of: order)
            #expect(outcomes.map(\.type) == ["order.cancelled"])
            #expect(try outcomes.first?.decodeData(as: OrderOutcome.self).reason == "deadline exceeded")
            // The outcome carries the trace of the request that placed the order.
            #expect(outcomes.first?.traceparent != nil)
        }
        #expect(try await harness.order(completed.id)?.status == .completed)
        #expect(try await outcomes(harness, of: completed).map(\.type) == ["order.completed"])
        try await harness.tearDown()
    }
}
