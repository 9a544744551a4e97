import Contracts

/// The filters of `GET /v1/orders`: by customer, by status, and how many (newest first).
package struct OrderListQuery: Sendable, Hashable {
    package static let defaultLimit = 50
    package static let maxLimit = 200

    package var customerID: String?
    package var status: OrderStatus?
    package var limit: Int

    package init(customerID: String? = nil, status: OrderStatus? = nil, limit: Int = OrderListQuery.defaultLimit) {
        self.customerID = customerID
        self.status = status
        self.limit = limit
    }

    /// Reads the query parameters; an empty parameter counts as absent.
    ///
    /// - Throws: every parameter that is not acceptable, named.
    package static func parse(customerID: String?, status: String?, limit: String?) throws(OrderRequestError) -> OrderListQuery {
        var violations: [FieldViolation] = []
        var query = OrderListQuery()
        if let customerID, !customerID.isEmpty {
            if OrderValidation.hasControlCharacters(customerID) {
                violations.append(.init(field: "customer_id", message: OrderValidation.controlCharacterMessage))
            } else if customerID.count > OrderValidation.maxCustomerIDLength {
                violations.append(.init(field: "customer_id", message: "must be at most \(OrderValidation.maxCustomerIDLength) characters"))
            }
            query.customerID = customerID
        }
        if let status, !status.isEmpty {
            if let parsed = OrderStatus(rawValue: status.uppercased()) {
                query.status = parsed
            } else {
                let known = OrderStatus.allCases.map(\.rawValue).joined(separator: ", ")
                violations.append(.init(field: "status", message: "must be one of \(known)"))
            }
        }
        if let limit, !limit.isEmpty {
            if let parsed = Int(limit), (1...maxLimit).contains(parsed) {
                query.limit = parsed
            } else {
                violations.append(.init(field: "limit", message: "must be a whole number between 1 and \(maxLimit)"))
            }
        }
        guard violations.isEmpty else { throw .invalid(violations) }
        return query
    }
}
