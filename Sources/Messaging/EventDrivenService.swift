import AMQP
import Logging
import Postgres

/// Where a service's messaging lives: its schema (inbox and outbox), its queues, its prefetch.
public protocol MessagingConfiguration: Sendable {
    var schema: String { get }
    var queues: ServiceQueues { get }
    /// The most deliveries handled at once.
    var prefetch: UInt16 { get }
}

/// A service that consumes its own work queue and publishes through its own outbox.
///
/// Conforming gives it ``consumer()`` and ``relay(pollInterval:)`` wired the same way in every
/// service; it only says which handler takes which event type.
public protocol EventDrivenService: Sendable {
    associatedtype Configuration: MessagingConfiguration
    var configuration: Configuration { get }
    var pool: PostgresPool { get }
    var connection: AMQPConnection { get }
    var logger: Logger { get }
    /// A handler per event type the work queue is bound to.
    var eventHandlers: [String: EventHandler] { get }
}

extension EventDrivenService {
    /// The consumer of the work queue; it declares the queues when it starts.
    public func consumer() -> MessageConsumer {
        MessageConsumer(
            queues: configuration.queues, schema: configuration.schema, pool: pool, connection: connection,
            handlers: eventHandlers, prefetch: configuration.prefetch, logger: logger
        )
    }

    /// The relay that publishes the outbox.
    public func relay(pollInterval: Duration = .milliseconds(500)) -> OutboxRelay {
        OutboxRelay(outbox: Outbox(schema: configuration.schema), pool: pool, connection: connection, pollInterval: pollInterval, logger: logger)
    }
}
