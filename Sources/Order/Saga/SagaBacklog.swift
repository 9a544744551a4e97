import Logging
import Messaging
import Metrics
import Postgres
import ServiceLifecycle
import Synchronization

/// The saga's backlog, and whether the intake may take another order.
///
/// Orders are accepted only while fewer than ``limit`` are open, so that what is accepted can finish
/// within a bounded time rather than wait behind an ever longer queue: past the limit the intake
/// answers `503` with `Retry-After`, and admits again by itself once the saga has caught up.
///
/// The count of open orders is read from the database every ``interval`` (so every instance of the
/// service sees the others' orders) and raised in between by each order this instance accepts.
package final class SagaBacklog: Service, Sendable {
    let store: OrderStore
    let pool: PostgresPool
    /// The most open orders; 0 admits everything.
    package let limit: Int
    let interval: Duration
    let logger: Logger
    private let open = Atomic<Int>(0)
    private let openGauge: Gauge
    private let shed: Counter

    package init(store: OrderStore, pool: PostgresPool, limit: Int, interval: Duration = .milliseconds(250), logger: Logger) {
        self.store = store
        self.pool = pool
        self.limit = limit
        self.interval = interval
        self.logger = logger
        openGauge = Gauge(label: "orderly_saga_open_orders")
        shed = Counter(label: "orderly_orders_shed_total")
    }

    /// Whether a new order may be accepted now; a refusal is counted.
    package func admits() -> Bool {
        guard Self.admits(open: open.load(ordering: .relaxed), limit: limit) else {
            shed.increment()
            return false
        }
        return true
    }

    /// Counts an order this instance just accepted, until the next reading includes it.
    package func accepted(_ count: Int = 1) { open.add(count, ordering: .relaxed) }

    /// The rule: with a limit, admit while fewer than it are open.
    static func admits(open: Int, limit: Int) -> Bool { limit <= 0 || open < limit }

    /// Reads the count of open orders from the database.
    package func refresh() async throws {
        let count = try await store.openOrderCount(on: pool)
        open.store(count, ordering: .relaxed)
        openGauge.record(count)
    }

    /// Reads the count of open orders until cancelled or shut down.
    package func run() async throws {
        guard limit > 0 else {
            // Returning would end the service group; there is simply nothing to read.
            try? await gracefulShutdown()
            return
        }
        var failing = false
        await repeatUntilShutdown(every: interval) {
            do {
                try await refresh()
                failing = false
            } catch {
                // The last reading stands; the intake's own writes fail the same way meanwhile.
                if !failing { logger.debug("cannot count the open orders", metadata: ["error": "\(error)"]) }
                failing = true
            }
        }
    }
}
