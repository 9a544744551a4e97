import ServiceKit

/// A valid `POST /v1/refunds` body.
package struct RefundRequest: Sendable, Hashable {
    package var chargeID: String
    package var amountCents: Int
    package var idempotencyKey: String

    package init(chargeID: String, amountCents: Int, idempotencyKey: String) {
        self.chargeID = chargeID
        self.amountCents = amountCents
        self.idempotencyKey = idempotencyKey
    }

    /// What must match when an idempotency key is used again.
    package var fingerprint: String { "\(chargeID)|\(amountCents)" }

    /// The body as sent, every field optional.
    package struct Draft: Decodable, Sendable, Hashable {
        package var chargeID: String?
        package var amountCents: Int?
        package var idempotencyKey: String?

        package init(chargeID: String? = nil, amountCents: Int? = nil, idempotencyKey: String? = nil) {
            self.chargeID = chargeID
            self.amountCents = amountCents
            self.idempotencyKey = idempotencyKey
        }

        enum CodingKeys: String, CodingKey {
            case chargeID = "charge_id"
            case amountCents = "amount_cents"
            case idempotencyKey = "idempotency_key"
        }
    }

    /// Checks every field of `draft`; the errors name each offending field.
    package static func validate(_ draft: Draft) -> Result<RefundRequest, ValidationErrors> {
        var errors: [Problem.FieldError] = []
        if let chargeID = draft.chargeID {
            if chargeID.isEmpty { errors.append(.init(field: "charge_id", message: "must not be empty")) }
            errors += Validation.controlCharacterErrors("charge_id", chargeID)
        } else {
            errors.append(.init(field: "charge_id", message: "is required"))
        }
        if let amount = draft.amountCents {
            if amount <= 0 { errors.append(.init(field: "amount_cents", message: "must be a positive number of cents")) }
        } else {
            errors.append(.init(field: "amount_cents", message: "is required"))
        }
        errors += Validation.idempotencyKeyErrors(draft.idempotencyKey)
        guard errors.isEmpty, let chargeID = draft.chargeID, let amount = draft.amountCents, let key = draft.idempotencyKey else {
            return .failure(ValidationErrors(errors: errors))
        }
        return .success(RefundRequest(chargeID: chargeID, amountCents: amount, idempotencyKey: key))
    }
}
