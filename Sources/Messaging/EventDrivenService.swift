import AMQP
import Logging
import MessagingConventions
import Postgres
import ServiceLifecycle

/// Where a service's messaging lives: its schema (inbox and outbox), its queues, its prefetch.
public protocol MessagingConfiguration: Sendable {
    var schema: String { get }
    var queues: ServiceQueues { get }
    /// The most deliveries handled at once.
    var prefetch: UInt16 { get }
    /// The exchange the service writes its events to; its relay declares it before publishing.
    var exchange: String { get }
    /// The CloudEvents `source` of the events the service emits.
    var source: String { get }
    /// The longest a batch of the work queue waits for more deliveries while they pour in (``BatchRhythm``).
    var batchLinger: Duration { get }
}

/// A service that consumes its own work queue and publishes through its own outbox.
///
/// Conforming gives it ``messaging()``, its consumer and relay wired the same way in every service;
/// it only says which handler takes which event type.
public protocol EventDrivenService: Sendable {
    associatedtype Configuration: MessagingConfiguration
    var configuration: Configuration { get }
    var pool: PostgresPool { get }
    var connection: AMQPConnection { get }
    var logger: Logger { get }
    /// A handler per event type the work queue is bound to.
    var eventHandlers: EventHandlers { get }
}

extension MessagingConfiguration {
    /// What the service declares at start: its queues with their bindings, and the exchange it writes.
    public var topology: AMQPTopology {
        queues.topology.merging(AMQPTopology(exchanges: [AMQPTopology.Exchange(name: exchange)]))
    }
}

extension EventDrivenService {
    /// The relay and the consumer, in start order (the consumer stops first, so that the relay publishes what its
    /// last batches emitted), sharing one ``OutboxDispatch``: what a batch emits goes to the broker as it commits.
    public func messaging() -> [any Service] {
        let outbox = Outbox(schema: configuration.schema, dispatch: OutboxDispatch())
        return [relay(outbox: outbox), consumer(outbox: outbox)]
    }

    /// The consumer of the work queue; it declares the queues when it starts.
    ///
    /// - Parameter outbox: where its handlers' events go; by default the service's, without a dispatch, so that
    ///   only the relay publishes them.
    public func consumer(outbox: Outbox? = nil) -> MessageConsumer {
        MessageConsumer(
            queues: configuration.queues, outbox: outbox ?? Outbox(schema: configuration.schema), pool: pool, connection: connection,
            handlers: eventHandlers, source: configuration.source, exchange: configuration.exchange, prefetch: configuration.prefetch,
            linger: configuration.batchLinger, logger: logger
        )
    }

    /// The relay that publishes the outbox, and what its dispatch was handed.
    public func relay(pollInterval: Duration = .milliseconds(500), outbox: Outbox? = nil) -> OutboxRelay {
        OutboxRelay(
            outbox: outbox ?? Outbox(schema: configuration.schema), pool: pool, connection: connection, exchanges: [configuration.exchange],
            pollInterval: pollInterval, linger: configuration.batchLinger, logger: logger)
    }
}
