/// A reservation decided for a paid order, to be recorded with ``InventoryStore/record(_:in:)``.
public struct ReservationRecord: Sendable, Hashable {
    public var orderID: String
    public var paymentID: String
    public var decision: ReservationDecision

    public init(orderID: String, paymentID: String, decision: ReservationDecision) {
        self.orderID = orderID
        self.paymentID = paymentID
        self.decision = decision
    }
}
