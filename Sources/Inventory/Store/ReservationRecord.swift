/// A reservation decided for a paid order, to be recorded with ``InventoryStore/record(_:in:)``.
package struct ReservationRecord: Sendable, Hashable {
    package var orderID: String
    package var paymentID: String
    package var decision: ReservationDecision

    package init(orderID: String, paymentID: String, decision: ReservationDecision) {
        self.orderID = orderID
        self.paymentID = paymentID
        self.decision = decision
    }
}
