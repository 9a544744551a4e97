/// The payloads of the saga's events, as JSON with snake_case keys.
///
/// Each event carries what its consumers need — amounts, currency, lines, payment id — so that
/// no service ever asks another.

/// The customer of an order.
package struct Customer: Codable, Sendable, Hashable {
    package var id: String
    package var email: String

    package init(id: String, email: String) {
        self.id = id
        self.email = email
    }
}

/// One line of an order.
package struct OrderLine: Codable, Sendable, Hashable {
    package var sku: String
    package var quantity: Int
    package var unitPriceCents: Int

    package init(sku: String, quantity: Int, unitPriceCents: Int) {
        self.sku = sku
        self.quantity = quantity
        self.unitPriceCents = unitPriceCents
    }

    enum CodingKeys: String, CodingKey {
        case sku, quantity
        case unitPriceCents = "unit_price_cents"
    }
}

/// How the customer pays: a token the payment gateway understands.
package struct PaymentMethod: Codable, Sendable, Hashable {
    package var token: String

    package init(token: String) { self.token = token }
}

/// The body of `POST /v1/orders`, and of `order.requested` on the ingress exchange.
package struct OrderRequest: Codable, Sendable, Hashable {
    package var customer: Customer
    package var currency: String
    package var items: [OrderLine]
    package var payment: PaymentMethod

    package init(customer: Customer, currency: String, items: [OrderLine], payment: PaymentMethod) {
        self.customer = customer
        self.currency = currency
        self.items = items
        self.payment = payment
    }

    /// The sum of the lines.
    package var totalCents: Int { items.reduce(0) { $0 + $1.quantity * $1.unitPriceCents } }
}

/// `order.placed`: an order was accepted and is to be paid.
package struct OrderPlaced: Codable, Sendable, Hashable {
    package var orderID: String
    package var customer: Customer
    package var currency: String
    package var items: [OrderLine]
    package var totalCents: Int
    package var paymentToken: String

    package init(orderID: String, customer: Customer, currency: String, items: [OrderLine], totalCents: Int, paymentToken: String) {
        self.orderID = orderID
        self.customer = customer
        self.currency = currency
        self.items = items
        self.totalCents = totalCents
        self.paymentToken = paymentToken
    }

    enum CodingKeys: String, CodingKey {
        case customer, currency, items
        case orderID = "order_id"
        case totalCents = "total_cents"
        case paymentToken = "payment_token"
    }
}

/// `order.completed`, `order.failed` and `order.cancelled`: an order reached its end.
package struct OrderOutcome: Codable, Sendable, Hashable {
    /// The terminal status the order reached.
    package enum Status: String, Codable, Sendable, Hashable, CaseIterable {
        case completed = "COMPLETED"
        case failed = "FAILED"
        case cancelled = "CANCELLED"
    }

    package var orderID: String
    package var status: Status
    package var customer: Customer
    package var currency: String
    package var totalCents: Int
    package var reason: String?

    package init(orderID: String, status: Status, customer: Customer, currency: String, totalCents: Int, reason: String?) {
        self.orderID = orderID
        self.status = status
        self.customer = customer
        self.currency = currency
        self.totalCents = totalCents
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case status, customer, currency, reason
        case orderID = "order_id"
        case totalCents = "total_cents"
    }
}

/// `payment.succeeded`: the order was charged; carries the lines so that inventory can reserve them.
package struct PaymentSucceeded: Codable, Sendable, Hashable {
    package var orderID: String
    package var paymentID: String
    package var amountCents: Int
    package var currency: String
    package var items: [OrderLine]

    package init(orderID: String, paymentID: String, amountCents: Int, currency: String, items: [OrderLine]) {
        self.orderID = orderID
        self.paymentID = paymentID
        self.amountCents = amountCents
        self.currency = currency
        self.items = items
    }

    enum CodingKeys: String, CodingKey {
        case currency, items
        case orderID = "order_id"
        case paymentID = "payment_id"
        case amountCents = "amount_cents"
    }
}

/// `payment.failed`: the charge was declined or could not be made; nothing was charged.
package struct PaymentFailed: Codable, Sendable, Hashable {
    package var orderID: String
    package var reason: String

    package init(orderID: String, reason: String) {
        self.orderID = orderID
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case reason
        case orderID = "order_id"
    }
}

/// `payment.refund_requested`: the compensation — give the money of a charge back.
package struct RefundRequested: Codable, Sendable, Hashable {
    package var orderID: String
    package var paymentID: String
    package var amountCents: Int
    package var currency: String
    package var reason: String

    package init(orderID: String, paymentID: String, amountCents: Int, currency: String, reason: String) {
        self.orderID = orderID
        self.paymentID = paymentID
        self.amountCents = amountCents
        self.currency = currency
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case currency, reason
        case orderID = "order_id"
        case paymentID = "payment_id"
        case amountCents = "amount_cents"
    }
}

/// `payment.refunded`: a charge was refunded in full.
package struct PaymentRefunded: Codable, Sendable, Hashable {
    package var orderID: String
    package var paymentID: String
    package var refundID: String
    package var amountCents: Int
    package var currency: String

    package init(orderID: String, paymentID: String, refundID: String, amountCents: Int, currency: String) {
        self.orderID = orderID
        self.paymentID = paymentID
        self.refundID = refundID
        self.amountCents = amountCents
        self.currency = currency
    }

    enum CodingKeys: String, CodingKey {
        case currency
        case orderID = "order_id"
        case paymentID = "payment_id"
        case refundID = "refund_id"
        case amountCents = "amount_cents"
    }
}

/// `stock.reserved`: every line of a paid order is held.
package struct StockReserved: Codable, Sendable, Hashable {
    package var orderID: String
    package var items: [OrderLine]

    package init(orderID: String, items: [OrderLine]) {
        self.orderID = orderID
        self.items = items
    }

    enum CodingKeys: String, CodingKey {
        case items
        case orderID = "order_id"
    }
}

/// `stock.reservation_failed`: not every line could be held, so none is.
package struct StockReservationFailed: Codable, Sendable, Hashable {
    package var orderID: String
    package var reason: String
    /// The SKUs that were short.
    package var missing: [String]

    package init(orderID: String, reason: String, missing: [String]) {
        self.orderID = orderID
        self.reason = reason
        self.missing = missing
    }

    enum CodingKeys: String, CodingKey {
        case reason, missing
        case orderID = "order_id"
    }
}

/// `stock.adjusted` on the ingress exchange: stock of a SKU changes by `delta`.
package struct StockAdjusted: Codable, Sendable, Hashable {
    package var sku: String
    package var delta: Int
    package var reason: String

    package init(sku: String, delta: Int, reason: String) {
        self.sku = sku
        self.delta = delta
        self.reason = reason
    }
}

/// `notification.sent` and `notification.failed`: the customer was (or could not be) told.
package struct NotificationOutcome: Codable, Sendable, Hashable {
    package var orderID: String
    package var notificationID: String
    /// The order outcome told: `order.completed`, `order.failed` or `order.cancelled`.
    package var outcome: String
    package var channel: String
    package var reason: String?

    package init(orderID: String, notificationID: String, outcome: String, channel: String, reason: String? = nil) {
        self.orderID = orderID
        self.notificationID = notificationID
        self.outcome = outcome
        self.channel = channel
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case outcome, channel, reason
        case orderID = "order_id"
        case notificationID = "notification_id"
    }
}
