/// What a gateway answer to a refund means. A pure function of the answer.
///
/// `200`/`201` with a `refund_id` is a refund; `408`, `429`, `5xx` and no answer are transient;
/// anything else (an unknown charge, an amount over what remains) is permanent, with the gateway's detail.
package enum RefundOutcome: Sendable, Hashable {
    case refunded(refundID: String)
    case transient(reason: String)
    case rejected(reason: String)

    package init(_ answer: GatewayAnswer) {
        switch GatewayVerdict(answer, idField: "refund_id") {
        case .created(let refundID): self = .refunded(refundID: refundID)
        case .transient(let reason): self = .transient(reason: reason)
        case .rejected(let reason): self = .rejected(reason: reason)
        }
    }

    /// The label of this outcome in metrics.
    package var label: String {
        switch self {
        case .refunded: "succeeded"
        case .transient: "transient"
        case .rejected: "rejected"
        }
    }
}
