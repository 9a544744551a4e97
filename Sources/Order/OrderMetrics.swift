import Metrics

/// The counters of order-service that are not the consumer's, exposed on `/metrics`; made once.
enum OrderMetrics {
    /// `orderly_orders_accepted_total{channel}`: orders stored, from the HTTP intake or from `order.requested`.
    static let acceptedOverHTTP = Counter(label: "orderly_orders_accepted_total", dimensions: [("channel", "http")])
    static let acceptedFromIngress = Counter(label: "orderly_orders_accepted_total", dimensions: [("channel", "ingress")])
}
