/// What the order state machine decided for one event.
public enum Transition: Sendable, Hashable {
    /// The order moves to a new status.
    case moved(to: OrderStatus)
    /// The event changes nothing (late, duplicate or out of order); the reason says why.
    case ignored(String)
}
