import Foundation
import Logging
import Messaging
import Postgres
import ServiceLifecycle
import Telemetry
import Tracing

/// Cancels open orders whose saga deadline passed, emitting `order.cancelled` (which makes
/// payment refund a charge and inventory release a reservation).
///
/// Polls every ``interval``; each round locks expired orders in batches with
/// `FOR UPDATE SKIP LOCKED`, so several instances share the work without waiting on each other,
/// and an order being moved by an event right now is left to the next round.
package final class SagaDeadlineWatcher: Service, Sendable {
    let saga: OrderSaga
    let pool: PostgresPool
    let interval: Duration
    let batchSize: Int
    let logger: Logger
    /// Each cancellation is a span of the order's trace, so that it and the compensation after it are followed as the rest.
    let tracer: any Tracer = ProcessTracer.current

    package init(saga: OrderSaga, pool: PostgresPool, interval: Duration = .seconds(1), batchSize: Int = 100, logger: Logger) {
        self.saga = saga
        self.pool = pool
        self.interval = interval
        self.batchSize = batchSize
        var logger = logger
        logger[metadataKey: "component"] = "saga-deadline"
        self.logger = logger
    }

    /// Sweeps until cancelled or shut down gracefully; a round in progress completes.
    package func run() async throws {
        await repeatUntilShutdown(every: interval) {
            do {
                try await sweep()
            } catch {
                logger.warning("deadline sweep failed; trying again", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Cancels every order past its deadline now; returns how many.
    @discardableResult
    package func sweep() async throws -> Int {
        var total = 0
        while true {
            let cancelled = try await pool.transaction { transaction in
                let expired = try await saga.store.lockExpired(limit: batchSize, in: transaction)
                var spans: [any Span] = []
                defer { for span in spans { span.end() } }
                try await saga.apply(
                    expired.map { order in
                        let id = order.id.description
                        let (span, traceparent) = tracer.startSpan("saga deadline", continuing: order.traceparent, ofKind: .internal)
                        spans.append(span)
                        var logger = self.logger
                        logger[metadataKey: LogKey.orderID] = "\(id)"
                        if let traceparent { logger.setTrace(traceparent) }
                        return OrderSaga.Application(
                            event: .deadlineExceeded, orderID: id, eventID: "deadline:\(id)", traceparent: traceparent,
                            source: saga.events.source, eventTime: Date(), logger: logger)
                    }, in: transaction)
                return expired.count
            }
            total += cancelled
            if cancelled < batchSize { return total }
        }
    }
}
