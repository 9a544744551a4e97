/// What the order state machine decided for one event.
package enum Transition: Sendable, Hashable {
    /// The order moves to a new status.
    case moved(to: OrderStatus)
    /// The event changes nothing (late or duplicate); the reason says why.
    case ignored(String)
    /// The event came before one it presupposes (stock news before the payment it follows), so it
    /// is to be handled again later rather than lost; the reason says what is missing.
    case deferred(String)
}
