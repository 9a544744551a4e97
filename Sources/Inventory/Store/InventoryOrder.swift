/// What inventory knows about one order: whether its reservation was decided, and whether it was cancelled.
package struct InventoryOrder: Sendable, Hashable {
    /// How the reservation of a paid order was decided.
    package enum Reservation: String, Sendable, Hashable {
        /// Every line is (or was, until released) held.
        case reserved
        /// Nothing is held; the compensation was requested.
        case rejected
    }

    package var orderID: String
    /// `nil` while no `payment.succeeded` was handled for the order.
    package var reservation: Reservation?
    package var cancelled: Bool
    /// Whether the order's held stock went back to available.
    package var released: Bool

    package init(orderID: String, reservation: Reservation? = nil, cancelled: Bool = false, released: Bool = false) {
        self.orderID = orderID
        self.reservation = reservation
        self.cancelled = cancelled
        self.released = released
    }
}
