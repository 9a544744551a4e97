import Contracts
import MessagingConventions

/// The rules of an order's life: which event moves an order in which status, and where to.
///
/// Pure: no I/O, no clock. The store applies the result under a row lock. A late or duplicate
/// event is ``Transition/ignored(_:)`` and never moves an order backwards; a terminal order never
/// moves again.
///
/// One kind of out-of-order event is not dropped: stock news for an order still `PENDING`.
/// Inventory reserves only after `payment.succeeded`, so its answer can overtake that event on
/// the order-service's own queue (both fan out of the same publication); ignoring it would leave
/// a paid order waiting for its deadline. It is ``Transition/deferred(_:)``: retried later, when
/// the payment has been applied.
package enum OrderStateMachine {
    /// Decides what `event` does to an order in `status`.
    package static func apply(_ event: OrderEvent, to status: OrderStatus) -> Transition {
        if status.isTerminal {
            return .ignored("\(event.name) arrived after the order ended \(status.rawValue)")
        }
        switch (event, status) {
        case (.paymentSucceeded, .pending): return .moved(to: .paid)
        case (.paymentFailed, .pending): return .moved(to: .failed)
        case (.stockReserved, .paid): return .moved(to: .completed)
        case (.stockReservationFailed, .paid): return .moved(to: .refunding)
        // A refund ends the saga whatever came before it: it may overtake stock.reservation_failed.
        case (.paymentRefunded, _): return .moved(to: .cancelled)
        case (.deadlineExceeded, _): return .moved(to: .cancelled)
        case (.stockReserved, .pending), (.stockReservationFailed, .pending):
            return .deferred("\(event.name) arrived before payment.succeeded was applied to the order")
        default:
            return .ignored("\(event.name) does not apply to an order in \(status.rawValue)")
        }
    }

    /// The failure reason an order carries after `event` moved it, given the one it had.
    ///
    /// A payment decline and a stock shortage say why; a refund keeps the reason that led to it; a
    /// passed deadline says so, whatever came before.
    package static func failureReason(after event: OrderEvent, previous: String?) -> String? {
        switch event {
        case .paymentFailed(let reason), .stockReservationFailed(let reason): reason
        case .paymentRefunded: previous ?? "payment refunded"
        case .deadlineExceeded: OrderEvent.deadlineReason
        case .paymentSucceeded, .stockReserved: previous
        }
    }

    /// The outcome event an order emits on entering `status`, with the status it reports, or `nil`
    /// when the status is not terminal.
    package static func outcome(for status: OrderStatus) -> (event: Event<OrderOutcome>, status: OrderOutcome.Status)? {
        switch status {
        case .completed: (.orderCompleted, .completed)
        case .failed: (.orderFailed, .failed)
        case .cancelled: (.orderCancelled, .cancelled)
        case .pending, .paid, .refunding: nil
        }
    }
}
