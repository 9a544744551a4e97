import Contracts
import Inventory
import Messaging
import Testing

@Suite struct ReservationDecisionTests {
    func line(_ sku: String, _ quantity: Int) -> OrderLine { OrderLine(sku: sku, quantity: quantity, unitPriceCents: 100) }

    @Test func reservationsInTurnSeeWhatTheOnesBeforeLeft() {
        let decisions = ReservationDecision.decideInTurn(
            [[line("A", 2)], [line("A", 2), line("B", 1)], [line("A", 1)], [line("", 1)], [line("B", 1)]], available: ["A": 3, "B": 1])
        #expect(
            decisions == [
                .reserve([StockHold(sku: "A", quantity: 2)]),
                .reject(missing: ["A"], reason: "insufficient stock for A"),
                .reserve([StockHold(sku: "A", quantity: 1)]),
                .reject(missing: [], reason: "a line has an empty SKU (quantity 1)"),
                .reserve([StockHold(sku: "B", quantity: 1)]),
            ])
    }

    @Test func everyLineThatFitsIsReservedSortedBySKU() {
        let decision = ReservationDecision.decide(lines: [line("B", 1), line("A", 2)], available: ["A": 2, "B": 5])
        #expect(decision == .reserve([StockHold(sku: "A", quantity: 2), StockHold(sku: "B", quantity: 1)]))
    }

    @Test func oneShortLineRejectsTheWholeOrderAndNamesOnlyTheShortSKUs() {
        let decision = ReservationDecision.decide(lines: [line("A", 2), line("B", 3), line("C", 1)], available: ["A": 10, "B": 2, "C": 0])
        #expect(decision == .reject(missing: ["B", "C"], reason: "insufficient stock for B, C"))
    }

    @Test func anUnknownSKUCountsAsNothingAvailable() {
        let decision = ReservationDecision.decide(lines: [line("A", 1), line("GHOST", 1)], available: ["A": 1])
        #expect(decision == .reject(missing: ["GHOST"], reason: "insufficient stock for GHOST"))
    }

    @Test func linesOfOneSKUAddUpBeforeTheyAreCompared() {
        #expect(
            ReservationDecision.decide(lines: [line("A", 2), line("A", 2)], available: ["A": 3])
                == .reject(missing: ["A"], reason: "insufficient stock for A"))
        #expect(ReservationDecision.decide(lines: [line("A", 2), line("A", 1)], available: ["A": 3]) == .reserve([StockHold(sku: "A", quantity: 3)]))
    }

    @Test func theLastUnitGoesToExactlyOneOrder() {
        var available = ["A": 1]
        var reserved = 0
        for _ in 0..<5 {
            if case .reserve(let holds) = ReservationDecision.decide(lines: [line("A", 1)], available: available) {
                for hold in holds { available[hold.sku, default: 0] -= hold.quantity }
                reserved += 1
            }
        }
        #expect(reserved == 1)
        #expect(available["A"] == 0)
    }

    @Test func unusableLinesAreRejectedWithTheirReason() {
        #expect(ReservationDecision.decide(lines: [], available: [:]) == .reject(missing: [], reason: "the order has no lines"))
        #expect(
            ReservationDecision.decide(lines: [line("A", 0)], available: ["A": 5])
                == .reject(missing: [], reason: "the line of A has quantity 0; it must be positive")
        )
        #expect(
            ReservationDecision.decide(lines: [line("A", -2)], available: ["A": 5])
                == .reject(missing: [], reason: "the line of A has quantity -2; it must be positive")
        )
    }
}

@Suite struct StockLevelTests {
    @Test func anAdjustmentChangesOnlyWhatIsAvailable() throws {
        let level = StockLevel(sku: "A", available: 3, reserved: 4)
        #expect(try level.adjusted(by: 5) == StockLevel(sku: "A", available: 8, reserved: 4))
        #expect(try level.adjusted(by: -3) == StockLevel(sku: "A", available: 0, reserved: 4))
    }

    @Test func anAdjustmentThatWouldGoNegativeFailsPermanentlyAndSaysWhy() {
        let level = StockLevel(sku: "A", available: 2, reserved: 4)
        #expect {
            try level.adjusted(by: -5)
        } throws: { error in
            let error = error as? StockAdjustmentError
            return error?.failureKind == .permanent
                && error?.description == "adjusting A by -5 would leave -3 available (available 2, reserved 4); stock is never negative"
        }
    }

    @Test func anAdjustmentThatWouldOverflowFails() {
        #expect(throws: StockAdjustmentError.self) { try StockLevel(sku: "A", available: 1, reserved: 0).adjusted(by: Int.max) }
    }
}
