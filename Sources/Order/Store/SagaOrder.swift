import Contracts
import Foundation
import Postgres

/// What the saga needs of a locked order: its status, what it reports in its outcome, and its trace.
public struct SagaOrder: Sendable, Hashable {
    public var id: OrderID
    public var status: OrderStatus
    public var customer: Customer
    public var currency: String
    public var totalCents: Int
    public var paymentID: String?
    public var failureReason: String?
    public var traceparent: String

    static let columns = "id, status, customer_id, customer_email, currency, total_cents, payment_id, failure_reason, traceparent"

    init(row: PostgresRow) throws {
        id = try row.decode(OrderID.self, "id")
        status = try row.decode(OrderStatus.self, "status")
        customer = Customer(id: try row.decode(String.self, "customer_id"), email: try row.decode(String.self, "customer_email"))
        currency = try row.decode(String.self, "currency")
        totalCents = try row.decode(Int.self, "total_cents")
        paymentID = try row.decode(String?.self, "payment_id")
        failureReason = try row.decode(String?.self, "failure_reason")
        traceparent = try row.decode(String.self, "traceparent")
    }
}
