import AMQP
import Contracts
import Foundation
import Inventory
import Messaging
import MessagingConventions
import Telemetry
import TestSupport
import Testing

/// inventory-service against the real broker and database, each test on its own schema and queues.
@Suite(.timeLimit(.minutes(1)))
struct InventoryIntegrationTests {
    func line(_ sku: String, _ quantity: Int, price: Int = 500) -> OrderLine { OrderLine(sku: sku, quantity: quantity, unitPriceCents: price) }

    @Test func aReservationHoldsEveryLineOrNoneAndTheShortOrderIsRefunded() async throws {
        let harness = try await InventoryHarness.make()
        try await harness.stock("LAMP", available: 5)
        try await harness.stock("BULB", available: 1)
        let published = try await harness.running(withRelay: true) {
            try await harness.paymentSucceeded("o-1", [line("LAMP", 2), line("BULB", 1)])
            try await eventually { try await harness.handledCount() == 1 }
            try await harness.paymentSucceeded("o-2", [line("LAMP", 2), line("BULB", 1)])
            try await eventually { try await harness.handledCount() == 2 }
            return try await harness.connection.consume(queue: harness.probe).collect(3, within: .seconds(10))
        }
        // o-1 holds both lines; o-2 holds nothing, not even the lamps that were there.
        #expect(try await harness.level("LAMP") == StockLevel(sku: "LAMP", available: 3, reserved: 2))
        #expect(try await harness.level("BULB") == StockLevel(sku: "BULB", available: 0, reserved: 1))

        let events = try published.map { try CloudEvent(delivery: $0) }
        #expect(events.map(\.type) == ["stock.reserved", "stock.reservation_failed", "payment.refund_requested"])
        #expect(events.map(\.subject) == ["o-1", "o-2", "o-2"])
        #expect(events.allSatisfy { $0.source == "/orderly/inventory-service" })
        // Each carries the span of the handling of its payment.succeeded: the same trace, a span of its own.
        let incoming = TraceParent(InventoryHarness.traceparent)
        #expect(events.allSatisfy { $0.traceparent.flatMap { TraceParent($0) }?.traceIDText == incoming?.traceIDText })
        #expect(events.allSatisfy { $0.traceparent != InventoryHarness.traceparent })
        #expect(try events[0].decodeData(as: StockReserved.self) == StockReserved(orderID: "o-1", items: [line("LAMP", 2), line("BULB", 1)]))
        let failed = try events[1].decodeData(as: StockReservationFailed.self)
        #expect(failed.missing == ["BULB"])
        let refund = try events[2].decodeData(as: RefundRequested.self)
        #expect(refund.paymentID == "pay-o-2" && refund.amountCents == 1500 && refund.currency == "EUR")
        try await harness.tearDown()
    }

    @Test func fiftyOrdersRacingForTenUnitsNeverOversell() async throws {
        let harness = try await InventoryHarness.make()
        try await harness.stock("LAST", available: 10)
        try await harness.running {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<50 { group.addTask { try await harness.paymentSucceeded("race-\(index)", [line("LAST", 1)]) } }
                try await group.waitForAll()
            }
            try await eventually { try await harness.handledCount() == 50 }
        }
        let level = try #require(try await harness.level("LAST"))
        #expect(level == StockLevel(sku: "LAST", available: 0, reserved: 10))
        #expect(level.available + level.reserved == 10)
        #expect(try await harness.emitted(.stockReserved).count == 10)
        let failed = try await harness.emitted(.stockReservationFailed)
        let refunds = try await harness.emitted(.paymentRefundRequested)
        #expect(failed.count == 40)
        #expect(refunds.count == 40)
        // Each refund is for an order that failed, and no order both reserved and failed.
        #expect(Set(failed.compactMap(\.subject)) == Set(refunds.compactMap(\.subject)))
        #expect(Set(try await harness.emitted(.stockReserved).compactMap(\.subject)).isDisjoint(with: failed.compactMap(\.subject)))
        let held = try await harness.pool.query("SELECT coalesce(sum(quantity), 0) FROM \(identifier: harness.schema).reservations")
        #expect(try held[0].decode(Int.self, 0) == 10)
        try await harness.tearDown()
    }

    @Test func anAdjustmentPublishedTwiceWithOneEventIDIsAppliedOnce() async throws {
        let harness = try await InventoryHarness.make()
        try await harness.running {
            try await harness.publish(.stockAdjusted, subject: "MUG", id: "adj-1", payload: StockAdjusted(sku: "MUG", delta: 7, reason: "delivery"))
            try await harness.publish(.stockAdjusted, subject: "MUG", id: "adj-1", payload: StockAdjusted(sku: "MUG", delta: 7, reason: "delivery"))
            try await harness.publish(.stockAdjusted, subject: "MUG", id: "adj-2", payload: StockAdjusted(sku: "MUG", delta: -2, reason: "broken"))
            try await eventually { try await harness.handledCount() == 2 }
            try await eventually { try await harness.connection.status(ofQueue: harness.queues.workQueue).messageCount == 0 }
            try await Task.sleep(for: .milliseconds(300))
        }
        #expect(try await harness.level("MUG") == StockLevel(sku: "MUG", available: 5, reserved: 0))
        let log = try await harness.pool.query("SELECT event_id, delta FROM \(identifier: harness.schema).adjustments ORDER BY id").map {
            "\(try $0.decode(String.self, 0)):\(try $0.decode(Int.self, 1))"
        }
        #expect(log == ["adj-1:7", "adj-2:-2"])
        try await harness.tearDown()
    }

    @Test func anAdjustmentThatWouldMakeStockNegativeIsParkedWithItsReason() async throws {
        let harness = try await InventoryHarness.make()
        try await harness.stock("MUG", available: 2)
        try await harness.running {
            try await harness.publish(
                .stockAdjusted, subject: "MUG", id: "too-much", payload: StockAdjusted(sku: "MUG", delta: -5, reason: "stocktake"))
            try await eventually { try await harness.connection.status(ofQueue: harness.queues.parkingQueue).messageCount == 1 }
        }
        #expect(try await harness.level("MUG") == StockLevel(sku: "MUG", available: 2, reserved: 0))
        let parked = try await harness.connection.consume(queue: harness.queues.parkingQueue).collect(1, within: .seconds(30))
        let headers = try #require(parked.first?.properties.headers)
        #expect(parked.first?.properties.messageID == "too-much")
        #expect(
            headers[MessageHeaders.parkedReason]?.stringValue
                == "adjusting MUG by -5 would leave -3 available (available 2, reserved 0); stock is never negative")
        #expect(headers[MessageHeaders.failureKind]?.stringValue == "permanent")
        #expect(headers[MessageHeaders.attempts]?.intValue == 1)
        parked.first?.ack()
        try await harness.tearDown()
    }

    @Test func aCancelledOrderReleasesItsReservationOnceAndALatePaymentReservesNothing() async throws {
        let harness = try await InventoryHarness.make()
        try await harness.stock("CHAIR", available: 4)
        try await harness.running {
            try await harness.paymentSucceeded("o-1", [line("CHAIR", 3)])
            try await eventually { try await harness.handledCount() == 1 }
            #expect(try await harness.level("CHAIR") == StockLevel(sku: "CHAIR", available: 1, reserved: 3))

            try await harness.orderCancelled("o-1")
            try await harness.orderCancelled("o-1")  // A second cancellation (another event id) releases nothing more.
            try await eventually { try await harness.handledCount() == 3 }
            #expect(try await harness.level("CHAIR") == StockLevel(sku: "CHAIR", available: 4, reserved: 0))

            // Cancelled before it was paid: the payment that overtook nothing reserves nothing.
            try await harness.orderCancelled("o-2")
            try await eventually { try await harness.handledCount() == 4 }
            try await harness.paymentSucceeded("o-2", [line("CHAIR", 1)])
            try await harness.paymentSucceeded("o-1", [line("CHAIR", 1)])  // A late duplicate payment of o-1.
            try await eventually { try await harness.handledCount() == 6 }
        }
        #expect(try await harness.level("CHAIR") == StockLevel(sku: "CHAIR", available: 4, reserved: 0))
        #expect(try await harness.emitted().map(\.type) == ["stock.reserved"])
        try await harness.tearDown()
    }
}
