/// The topic exchanges of the saga, each written by one service (or, for `ingress`, by other systems).
public enum Exchange {
    public static let orders = "orderly.orders"
    public static let payments = "orderly.payments"
    public static let inventory = "orderly.inventory"
    public static let notifications = "orderly.notifications"
    /// Where other systems publish `order.requested` and `stock.adjusted`.
    public static let ingress = "orderly.ingress"

    public static let all = [orders, payments, inventory, notifications, ingress]
}
