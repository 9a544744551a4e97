import Contracts
import Messaging
import MessagingConventions

/// Where inventory-service keeps its state and which queues and exchanges it uses.
///
/// The defaults are production's; tests pass a unique schema, unique queues and unique exchanges
/// so they never touch the shared ones.
package struct InventoryConfiguration: MessagingConfiguration {
    /// The PostgreSQL schema of the stock, reservations, outbox and inbox.
    package var schema: String
    /// The work queue, its bindings, retry tiers and parking queue.
    package var queues: ServiceQueues
    /// Where `stock.reserved`, `stock.reservation_failed` and `payment.refund_requested` are published.
    package var exchange: String
    /// The CloudEvents `source` of what inventory emits.
    package var source: String
    /// The most deliveries handled at once.
    package var prefetch: UInt16
    /// The longest a batch waits for more deliveries while they pour in (`ORDERLY_BATCH_LINGER_MS`; see ``BatchRhythm``).
    package var batchLinger: Duration = BatchRhythm.defaultLinger

    package init(
        schema: String = "inventory", queues: ServiceQueues = Subscriptions.inventory, exchange: String = Exchange.inventory,
        source: String = "/orderly/inventory-service", prefetch: UInt16 = 64
    ) {
        self.schema = schema
        self.queues = queues
        self.exchange = exchange
        self.source = source
        self.prefetch = prefetch
    }
}
