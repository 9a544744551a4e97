import Contracts
import Messaging
import MessagingConventions
import ServiceKit

/// Where payment-service keeps its state, which queues and exchange it uses, and how it reaches the gateway.
///
/// The defaults are production's; tests pass a unique schema, queues and exchange so that they
/// never touch the shared ones.
package struct PaymentConfiguration: MessagingConfiguration {
    /// The PostgreSQL schema of the charges, refunds, cancellations, outbox and inbox.
    package var schema: String
    /// The work queue, its bindings, retry tiers and parking queue.
    package var queues: ServiceQueues
    /// Where `payment.succeeded`, `payment.failed` and `payment.refunded` are published.
    package var exchange: String
    /// The CloudEvents `source` of what payment-service emits.
    package var source: String
    /// The most deliveries handled at once, and so in one batch: its charges are asked of the gateway
    /// concurrently, within one transaction and on one database connection.
    package var prefetch: UInt16
    /// The gateway's base URL (`ORDERLY_GATEWAY_URL`).
    package var gatewayURL: String
    /// How long a gateway request may take (`ORDERLY_GATEWAY_TIMEOUT_SECONDS`).
    package var gatewayTimeout: Duration
    /// The longest a batch waits for more deliveries while they pour in (`ORDERLY_BATCH_LINGER_MS`; see ``BatchRhythm``).
    package var batchLinger: Duration = BatchRhythm.defaultLinger

    package init(
        schema: String = "payments", queues: ServiceQueues = Subscriptions.payment, exchange: String = Exchange.payments,
        source: String = "/orderly/payment-service", prefetch: UInt16 = 64, gatewayURL: String = "http://127.0.0.1:8090",
        gatewayTimeout: Duration = .seconds(5)
    ) {
        self.schema = schema
        self.queues = queues
        self.exchange = exchange
        self.source = source
        self.prefetch = prefetch
        self.gatewayURL = gatewayURL
        self.gatewayTimeout = gatewayTimeout
    }

    /// The production configuration, with the gateway settings and `ORDERLY_PAYMENT_PREFETCH` from the environment.
    ///
    /// - Throws: ``SettingsError`` for a setting that is not a valid number.
    package init(settings: ServiceSettings) throws {
        self.init(
            prefetch: UInt16(clamping: max(1, try settings.int("ORDERLY_PAYMENT_PREFETCH", default: 64))),
            gatewayURL: settings.string("ORDERLY_GATEWAY_URL", default: "http://127.0.0.1:8090"),
            gatewayTimeout: try settings.seconds("ORDERLY_GATEWAY_TIMEOUT_SECONDS", default: .seconds(5))
        )
        batchLinger = try settings.batchLinger
    }
}
