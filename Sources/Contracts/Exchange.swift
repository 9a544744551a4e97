/// The topic exchanges of the saga, each written by one service (or, for `ingress`, by other systems).
package enum Exchange {
    package static let orders = "orderly.orders"
    package static let payments = "orderly.payments"
    package static let inventory = "orderly.inventory"
    package static let notifications = "orderly.notifications"
    /// Where other systems publish `order.requested` and `stock.adjusted`.
    package static let ingress = "orderly.ingress"

    package static let all = [orders, payments, inventory, notifications, ingress]
}
