/// What a gateway answer to a charge means for the saga. A pure function of the answer.
///
/// | answer | outcome |
/// | --- | --- |
/// | `200`/`201` with a `charge_id` | ``charged(chargeID:)`` |
/// | `402` | ``declined(chargeID:reason:)``: a business outcome, the handler succeeds |
/// | `408`, `429`, `5xx`, no answer | ``transient(reason:)``: retried through the tiers |
/// | any other status | ``rejected(reason:)``: permanent, parked with the gateway's detail |
package enum ChargeOutcome: Sendable, Hashable {
    case charged(chargeID: String)
    case declined(chargeID: String?, reason: String)
    case transient(reason: String)
    case rejected(reason: String)

    package init(_ answer: GatewayAnswer) {
        if case .response(402, _) = answer {
            let code = answer.field("code") ?? "card_declined"
            let detail = answer.field("detail") ?? "the card was declined"
            self = .declined(chargeID: answer.field("charge_id"), reason: "\(code): \(detail)")
            return
        }
        switch GatewayVerdict(answer, idField: "charge_id") {
        case .created(let chargeID): self = .charged(chargeID: chargeID)
        case .transient(let reason): self = .transient(reason: reason)
        case .rejected(let reason): self = .rejected(reason: reason)
        }
    }

    /// The label of this outcome in metrics.
    package var label: String {
        switch self {
        case .charged: "succeeded"
        case .declined: "declined"
        case .transient: "transient"
        case .rejected: "rejected"
        }
    }
}
