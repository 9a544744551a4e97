import Contracts
import Order
import Testing

@Suite("Order state machine", .timeLimit(.minutes(1)))
struct OrderStateMachineTests {
    static let events: [OrderEvent] = [
        .paymentSucceeded(paymentID: "ch_1"), .paymentFailed(reason: "card_declined"), .stockReserved,
        .stockReservationFailed(reason: "short"), .paymentRefunded, .deadlineExceeded,
    ]

    enum Expected: Equatable {
        case move(OrderStatus)
        case ignore
        case deferUntilPaid
    }

    /// The whole table: for each status and event, what happens (absent: ignored).
    static let table: [OrderStatus: [String: Expected]] = [
        .pending: [
            "payment.succeeded": .move(.paid), "payment.failed": .move(.failed), "stock.reserved": .deferUntilPaid,
            "stock.reservation_failed": .deferUntilPaid, "payment.refunded": .move(.cancelled), "saga.deadline": .move(.cancelled),
        ],
        .paid: [
            "stock.reserved": .move(.completed), "stock.reservation_failed": .move(.refunding), "payment.refunded": .move(.cancelled),
            "saga.deadline": .move(.cancelled),
        ],
        .refunding: ["payment.refunded": .move(.cancelled), "saga.deadline": .move(.cancelled)],
    ]

    @Test(arguments: OrderStatus.allCases, events)
    func everyEventInEveryStatusFollowsTheTable(status: OrderStatus, event: OrderEvent) {
        let expected = Self.table[status]?[event.name] ?? .ignore
        switch OrderStateMachine.apply(event, to: status) {
        case .moved(let target):
            #expect(expected == .move(target), "\(event.name) in \(status.rawValue)")
        case .ignored(let reason):
            #expect(expected == .ignore, "\(event.name) in \(status.rawValue) was ignored: \(reason)")
            #expect(reason.contains(event.name))
        case .deferred(let reason):
            #expect(expected == .deferUntilPaid, "\(event.name) in \(status.rawValue) was deferred: \(reason)")
            #expect(reason.contains("before payment.succeeded"))
        }
    }

    @Test func aTerminalOrderNeverMovesAgain() {
        for status in OrderStatus.allCases where status.isTerminal {
            for event in Self.events {
                guard case .ignored(let reason) = OrderStateMachine.apply(event, to: status) else {
                    Issue.record("\(event.name) moved a \(status.rawValue) order")
                    continue
                }
                #expect(reason.contains("after the order ended \(status.rawValue)"))
            }
        }
    }

    @Test func theHappyPathAndItsDuplicates() {
        var status = OrderStatus.pending
        for event in [OrderEvent.paymentSucceeded(paymentID: "ch_1"), .stockReserved] {
            guard case .moved(let next) = OrderStateMachine.apply(event, to: status) else {
                Issue.record("\(event.name) did not move \(status.rawValue)")
                return
            }
            // The same event again, redelivered, changes nothing.
            guard case .ignored = OrderStateMachine.apply(event, to: next) else {
                Issue.record("a duplicate \(event.name) moved a \(next.rawValue) order")
                return
            }
            status = next
        }
        #expect(status == .completed)
    }

    @Test func aRefundMayOvertakeTheReservationFailure() {
        #expect(OrderStateMachine.apply(.paymentRefunded, to: .paid) == .moved(to: .cancelled))
        // The late reservation failure then finds the order cancelled, and changes nothing.
        guard case .ignored = OrderStateMachine.apply(.stockReservationFailed(reason: "short"), to: .cancelled) else {
            Issue.record("a late stock.reservation_failed moved a cancelled order")
            return
        }
    }

    @Test func onlyTerminalStatusesHaveAnOutcomeEvent() {
        #expect(OrderStateMachine.outcome(for: .completed)?.event == .orderCompleted)
        #expect(OrderStateMachine.outcome(for: .failed)?.event == .orderFailed)
        #expect(OrderStateMachine.outcome(for: .cancelled)?.event == .orderCancelled)
        for status in OrderStatus.open { #expect(OrderStateMachine.outcome(for: status) == nil) }
    }

    @Test func theFailureReasonSaysWhy() {
        #expect(OrderStateMachine.failureReason(after: .paymentFailed(reason: "card_declined"), previous: nil) == "card_declined")
        #expect(OrderStateMachine.failureReason(after: .stockReservationFailed(reason: "SKU-1 short"), previous: nil) == "SKU-1 short")
        #expect(OrderStateMachine.failureReason(after: .paymentRefunded, previous: "SKU-1 short") == "SKU-1 short")
        #expect(OrderStateMachine.failureReason(after: .paymentRefunded, previous: nil) == "payment refunded")
        #expect(OrderStateMachine.failureReason(after: .deadlineExceeded, previous: "SKU-1 short") == "deadline exceeded")
        #expect(OrderStateMachine.failureReason(after: .stockReserved, previous: nil) == nil)
    }
}
