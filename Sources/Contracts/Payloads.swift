/// The payloads of the saga's events, as JSON with snake_case keys.
///
/// Each event carries what its consumers need — amounts, currency, lines, payment id — so that
/// no service ever asks another.

/// The customer of an order.
public struct Customer: Codable, Sendable, Hashable {
    public var id: String
    public var email: String

    public init(id: String, email: String) {
        self.id = id
        self.email = email
    }
}

/// One line of an order.
public struct OrderLine: Codable, Sendable, Hashable {
    public var sku: String
    public var quantity: Int
    public var unitPriceCents: Int

    public init(sku: String, quantity: Int, unitPriceCents: Int) {
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
public struct PaymentMethod: Codable, Sendable, Hashable {
    public var token: String

    public init(token: String) { self.token = token }
}

/// The body of `POST /v1/orders`, and of `order.requested` on the ingress exchange.
public struct OrderRequest: Codable, Sendable, Hashable {
    public var customer: Customer
    public var currency: String
    public var items: [OrderLine]
    public var payment: PaymentMethod

    public init(customer: Customer, currency: String, items: [OrderLine], payment: PaymentMethod) {
        self.customer = customer
        self.currency = currency
        self.items = items
        self.payment = payment
    }

    /// The sum of the lines.
    public var totalCents: Int { items.reduce(0) { $0 + $1.quantity * $1.unitPriceCents } }
}

/// `order.placed`: an order was accepted and is to be paid.
public struct OrderPlaced: Codable, Sendable, Hashable {
    public var orderID: String
    public var customer: Customer
    public var currency: String
    public var items: [OrderLine]
    public var totalCents: Int
    public var paymentToken: String

    public init(orderID: String, customer: Customer, currency: String, items: [OrderLine], totalCents: Int, paymentToken: String) {
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
public struct OrderOutcome: Codable, Sendable, Hashable {
    /// The terminal status the order reached.
    public enum Status: String, Codable, Sendable, Hashable, CaseIterable {
        case completed = "COMPLETED"
        case failed = "FAILED"
        case cancelled = "CANCELLED"
    }

    public var orderID: String
    public var status: Status
    public var customer: Customer
    public var currency: String
    public var totalCents: Int
    public var reason: String?

    public init(orderID: String, status: Status, customer: Customer, currency: String, totalCents: Int, reason: String?) {
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
public struct PaymentSucceeded: Codable, Sendable, Hashable {
    public var orderID: String
    public var paymentID: String
    public var amountCents: Int
    public var currency: String
    public var items: [OrderLine]

    public init(orderID: String, paymentID: String, amountCents: Int, currency: String, items: [OrderLine]) {
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
public struct PaymentFailed: Codable, Sendable, Hashable {
    public var orderID: String
    public var reason: String

    public init(orderID: String, reason: String) {
        self.orderID = orderID
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case reason
        case orderID = "order_id"
    }
}

/// `payment.refund_requested`: the compensation — give the money of a charge back.
public struct RefundRequested: Codable, Sendable, Hashable {
    public var orderID: String
    public var paymentID: String
    public var amountCents: Int
    public var currency: String
    public var reason: String

    public init(orderID: String, paymentID: String, amountCents: Int, currency: String, reason: String) {
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
public struct PaymentRefunded: Codable, Sendable, Hashable {
    public var orderID: String
    public var paymentID: String
    public var refundID: String
    public var amountCents: Int
    public var currency: String

    public init(orderID: String, paymentID: String, refundID: String, amountCents: Int, currency: String) {
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
public struct StockReserved: Codable, Sendable, Hashable {
    public var orderID: String
    public var items: [OrderLine]

    public init(orderID: String, items: [OrderLine]) {
        self.orderID = orderID
        self.items = items
    }

    enum CodingKeys: String, CodingKey {
        case items
        case orderID = "order_id"
    }
}

/// `stock.reservation_failed`: not every line could be held, so none is.
public struct StockReservationFailed: Codable, Sendable, Hashable {
    public var orderID: String
    public var reason: String
    /// The SKUs that were short.
    public var missing: [String]

    public init(orderID: String, reason: String, missing: [String]) {
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
public struct StockAdjusted: Codable, Sendable, Hashable {
    public var sku: String
    public var delta: Int
    public var reason: String

    public init(sku: String, delta: Int, reason: String) {
        self.sku = sku
        self.delta = delta
        self.reason = reason
    }
}

/// `notification.sent` and `notification.failed`: the customer was (or could not be) told.
public struct NotificationOutcome: Codable, Sendable, Hashable {
    public var orderID: String
    public var notificationID: String
    /// The order outcome told: `order.completed`, `order.failed` or `order.cancelled`.
    public var outcome: String
    public var channel: String
    public var reason: String?

    public init(orderID: String, notificationID: String, outcome: String, channel: String, reason: String? = nil) {
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
