/// What a gateway answer to a refund means. A pure function of the answer.
///
/// `200`/`201` with a `refund_id` is a refund; `408`, `429`, `5xx` and no answer are transient;
/// anything else (an unknown charge, an amount over what remains) is permanent, with the gateway's detail.
public enum RefundOutcome: Sendable, Hashable {
    case refunded(refundID: String)
    case transient(reason: String)
    case rejected(reason: String)

    public init(_ answer: GatewayAnswer) {
        switch answer {
        case .unreachable(let reason):
            self = .transient(reason: "gateway unreachable: \(reason)")
        case .response(let status, _) where status == 200 || status == 201:
            if let refundID = answer.field("refund_id"), !refundID.isEmpty {
                self = .refunded(refundID: refundID)
            } else {
                self = .rejected(reason: "gateway answered \(status) without a refund_id")
            }
        case .response(let status, _) where GatewayStatus.isTransient(status):
            self = .transient(reason: answer.detail)
        case .response:
            self = .rejected(reason: answer.detail)
        }
    }

    /// The label of this outcome in metrics.
    public var label: String {
        switch self {
        case .refunded: "succeeded"
        case .transient: "transient"
        case .rejected: "rejected"
        }
    }
}
