import ServiceKit

/// A valid `POST /v1/charges` body.
package struct ChargeRequest: Sendable, Hashable {
    package var amountCents: Int
    package var currency: String
    package var token: String
    package var idempotencyKey: String
    package var orderID: String

    package init(amountCents: Int, currency: String, token: String, idempotencyKey: String, orderID: String) {
        self.amountCents = amountCents
        self.currency = currency
        self.token = token
        self.idempotencyKey = idempotencyKey
        self.orderID = orderID
    }

    /// What must match when an idempotency key is used again: the same key with other parameters is refused.
    package var fingerprint: String { "\(amountCents)|\(currency)|\(token)|\(orderID)" }

    /// The body as sent, every field optional, so that a missing field is reported by name rather than as malformed JSON.
    package struct Draft: Decodable, Sendable, Hashable {
        package var amountCents: Int?
        package var currency: String?
        package var token: String?
        package var idempotencyKey: String?
        package var orderID: String?

        package init(amountCents: Int? = nil, currency: String? = nil, token: String? = nil, idempotencyKey: String? = nil, orderID: String? = nil) {
            self.amountCents = amountCents
            self.currency = currency
            self.token = token
            self.idempotencyKey = idempotencyKey
            self.orderID = orderID
        }

        enum CodingKeys: String, CodingKey {
            case currency, token
            case amountCents = "amount_cents"
            case idempotencyKey = "idempotency_key"
            case orderID = "order_id"
        }
    }

    /// Checks every field of `draft`; the errors name each offending field.
    ///
    /// An unknown token is not checked here: it is a well-formed request the simulator refuses (see ``TokenBehavior``).
    package static func validate(_ draft: Draft) -> Result<ChargeRequest, ValidationErrors> {
        var errors: [Problem.FieldError] = []
        if let amount = draft.amountCents {
            if amount <= 0 { errors.append(.init(field: "amount_cents", message: "must be a positive number of cents")) }
        } else {
            errors.append(.init(field: "amount_cents", message: "is required"))
        }
        if let currency = draft.currency {
            if !Validation.isCurrencyCode(currency) {
                errors.append(.init(field: "currency", message: "must be an ISO 4217 code of three capital letters"))
            }
        } else {
            errors.append(.init(field: "currency", message: "is required"))
        }
        if let token = draft.token {
            if token.isEmpty { errors.append(.init(field: "token", message: "must not be empty")) }
            errors += Validation.controlCharacterErrors("token", token)
        } else {
            errors.append(.init(field: "token", message: "is required"))
        }
        errors += Validation.idempotencyKeyErrors(draft.idempotencyKey)
        if let orderID = draft.orderID {
            if orderID.isEmpty || orderID.count > 255 { errors.append(.init(field: "order_id", message: "must be 1 to 255 characters")) }
            errors += Validation.controlCharacterErrors("order_id", orderID)
        } else {
            errors.append(.init(field: "order_id", message: "is required"))
        }
        guard errors.isEmpty, let amount = draft.amountCents, let currency = draft.currency, let token = draft.token,
            let key = draft.idempotencyKey, let orderID = draft.orderID
        else { return .failure(ValidationErrors(errors: errors)) }
        return .success(ChargeRequest(amountCents: amount, currency: currency, token: token, idempotencyKey: key, orderID: orderID))
    }
}
