import Contracts
import Foundation
import Postgres

/// What the saga needs of a locked order: its status, what it reports in its outcome, and its trace.
package struct SagaOrder: Sendable, Hashable {
    package var id: OrderID
    package var status: OrderStatus
    package var customer: Customer
    package var currency: String
    package var totalCents: Int
    package var paymentID: String?
    package var failureReason: String?
    package var traceparent: String

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
