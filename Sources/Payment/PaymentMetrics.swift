import Metrics
import Telemetry

/// The counters of payment-service, by outcome (`succeeded`, `declined`, `transient`, `rejected`); each handle made once.
enum PaymentMetrics {
    private static let charges = MetricFamily(counter: "orderly_payment_charges_total", dimensions: ["outcome"])
    private static let refunds = MetricFamily(counter: "orderly_payment_refunds_total", dimensions: ["outcome"])

    static func charge(_ outcome: ChargeOutcome) { charges(outcome.label).increment() }

    static func refund(_ outcome: RefundOutcome) { refunds(outcome.label).increment() }
}
