import Metrics

/// The counters of payment-service, by outcome (`succeeded`, `declined`, `transient`, `rejected`).
enum PaymentMetrics {
    static func charge(_ outcome: ChargeOutcome) {
        Counter(label: "orderly_payment_charges_total", dimensions: [("outcome", outcome.label)]).increment()
    }

    static func refund(_ outcome: RefundOutcome) {
        Counter(label: "orderly_payment_refunds_total", dimensions: [("outcome", outcome.label)]).increment()
    }
}
