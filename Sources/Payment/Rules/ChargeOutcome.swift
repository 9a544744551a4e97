/// What a gateway answer to a charge means for the saga. A pure function of the answer.
///
/// | answer | outcome |
/// | --- | --- |
/// | `200`/`201` with a `charge_id` | ``charged(chargeID:)`` |
/// | `402` | ``declined(chargeID:reason:)``: a business outcome, the handler succeeds |
/// | `408`, `429`, `5xx`, no answer | ``transient(reason:)``: retried through the tiers |
/// | any other status | ``rejected(reason:)``: permanent, parked with the gateway's detail |
public enum ChargeOutcome: Sendable, Hashable {
    case charged(chargeID: String)
    case declined(chargeID: String?, reason: String)
    case transient(reason: String)
    case rejected(reason: String)

    public init(_ answer: GatewayAnswer) {
        switch answer {
        case .unreachable(let reason):
            self = .transient(reason: "gateway unreachable: \(reason)")
        case .response(let status, _) where status == 200 || status == 201:
            if let chargeID = answer.field("charge_id"), !chargeID.isEmpty {
                self = .charged(chargeID: chargeID)
            } else {
                self = .rejected(reason: "gateway answered \(status) without a charge_id")
            }
        case .response(402, _):
            let code = answer.field("code") ?? "card_declined"
            let detail = answer.field("detail") ?? "the card was declined"
            self = .declined(chargeID: answer.field("charge_id"), reason: "\(code): \(detail)")
        case .response(let status, _) where GatewayStatus.isTransient(status):
            self = .transient(reason: answer.detail)
        case .response:
            self = .rejected(reason: answer.detail)
        }
    }

    /// The label of this outcome in metrics.
    public var label: String {
        switch self {
        case .charged: "succeeded"
        case .declined: "declined"
        case .transient: "transient"
        case .rejected: "rejected"
        }
    }
}
