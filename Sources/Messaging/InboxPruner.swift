import Logging
import Metrics
import Postgres
import ServiceLifecycle

/// Keeps a schema's inbox to a window of recent messages, so that its size follows the rate of
/// messages rather than their history.
///
/// An inbox record exists to absorb a second delivery of a message already handled. Every such
/// delivery comes soon after the first: a broker redelivery after a lost acknowledgement (seconds),
/// a relay publishing again after a crash between its publish and its commit (seconds), a message
/// whose handler failed after claiming it coming back through the retry tiers (the claim was undone
/// with the failed transaction, so it is not a duplicate). A message replayed from a parking queue
/// was never handled, so it has no record to find. The default window, 24 hours, is far past all of
/// them.
///
/// Past the window a duplicate is handled a second time, and each service's own rules make that
/// harmless: an order moves only from the status an event expects, a charge is keyed by its order
/// at the gateway, stock is reserved once per order, a notification is sent once per order and kind.
///
/// Pruning deletes in small batches, skipping rows another transaction holds, and pauses between
/// rounds, so it never holds long locks nor competes with the handlers for long.
public struct InboxPruner: Service {
    let schema: String
    let pool: PostgresPool
    let window: Duration
    let interval: Duration
    let batchSize: Int
    let logger: Logger
    let pruned: Counter

    /// - Parameters:
    ///   - pool: the service's database.
    ///   - schema: the service's schema, which holds its inbox.
    ///   - window: how long a processed message's record is kept.
    ///   - interval: the pause between rounds once the inbox holds nothing older than the window.
    ///   - batchSize: the most records one statement deletes.
    ///   - logger: where it reports what it pruned.
    public init(
        schema: String, pool: PostgresPool, window: Duration = .seconds(86_400), interval: Duration = .seconds(60), batchSize: Int = 2000,
        logger: Logger
    ) {
        self.schema = schema
        self.pool = pool
        self.window = window
        self.interval = interval
        self.batchSize = batchSize
        self.logger = logger
        pruned = Counter(label: "orderly_inbox_pruned_total", dimensions: [("schema", schema)])
    }

    /// Prunes until cancelled or asked to shut down.
    public func run() async throws {
        await repeatUntilShutdown(every: interval) {
            do {
                _ = try await pruneExpired()
            } catch {
                logger.debug("inbox pruning failed; trying again later", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Deletes every record older than the window, one batch at a time; returns how many.
    public func pruneExpired() async throws -> Int {
        var total = 0
        while !Task.isShuttingDownGracefully {
            let deleted = try await Inbox.prune(schema: schema, olderThan: window, limit: batchSize, on: pool)
            pruned.increment(by: deleted)
            total += deleted
            guard deleted == batchSize else { break }
            // A short breath between batches lets the handlers' statements in.
            try await Task.sleep(for: .milliseconds(10))
        }
        return total
    }
}
