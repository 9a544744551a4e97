/// Where an order stands in the checkout saga.
///
/// ```
/// PENDING ──payment.succeeded──▶ PAID ──stock.reserved──▶ COMPLETED
///    │                             │
///    └─payment.failed──▶ FAILED    └─stock.reservation_failed──▶ REFUNDING ──payment.refunded──▶ CANCELLED
/// ```
package enum OrderStatus: String, Sendable, Hashable, CaseIterable, Codable {
    case pending = "PENDING"
    case paid = "PAID"
    case completed = "COMPLETED"
    case failed = "FAILED"
    case refunding = "REFUNDING"
    case cancelled = "CANCELLED"

    /// Whether the saga is over for an order in this status: nothing moves it any more.
    package var isTerminal: Bool {
        switch self {
        case .completed, .failed, .cancelled: true
        case .pending, .paid, .refunding: false
        }
    }

    /// The statuses an order can still leave.
    package static let open: [OrderStatus] = allCases.filter { !$0.isTerminal }
}
