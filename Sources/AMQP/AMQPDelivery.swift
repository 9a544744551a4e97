/// A message delivered to a consumer, with the means to settle it.
///
/// Settle every delivery exactly once: `ack()` after its effects are durable, `nack(requeue:)` or
/// `reject(requeue:)` otherwise. Settling is asynchronous and never blocks. If the connection was
/// lost after the delivery, settling it does nothing: the broker delivers the message again.
public struct AMQPDelivery: Sendable {
    public let body: [UInt8]
    public let properties: AMQPProperties
    public let exchange: String
    public let routingKey: String
    /// Set by the broker when the message was delivered before and not acknowledged.
    public let redelivered: Bool
    public let deliveryTag: UInt64
    public let consumerTag: String
    let epoch: UInt64
    let mailbox: Mailbox

    /// Acknowledges this delivery, or with `multiple` every unsettled one up to it on this consumer.
    public func ack(multiple: Bool = false) { settle(.ack(multiple: multiple)) }

    /// Refuses this delivery (or every unsettled one up to it): requeued, or dead-lettered when `requeue` is false.
    public func nack(requeue: Bool, multiple: Bool = false) { settle(.nack(multiple: multiple, requeue: requeue)) }

    /// Refuses this one delivery.
    public func reject(requeue: Bool) { settle(.reject(requeue: requeue)) }

    /// Acknowledges `deliveries` with one `multiple` acknowledgement per channel they came on: the
    /// highest of each. Everything delivered before that highest one on its channel is acknowledged too,
    /// so call it only when every earlier delivery of the consumer has been settled.
    public static func ackAll(_ deliveries: some Sequence<AMQPDelivery>) {
        var highest: [UInt64: AMQPDelivery] = [:]
        for delivery in deliveries where delivery.deliveryTag > highest[delivery.epoch]?.deliveryTag ?? 0 {
            highest[delivery.epoch] = delivery
        }
        for delivery in highest.values { delivery.ack(multiple: true) }
    }

    private func settle(_ kind: Acknowledgement.Kind) {
        mailbox.post(.acknowledge(Acknowledgement(consumerTag: consumerTag, epoch: epoch, deliveryTag: deliveryTag, kind: kind)))
    }
}

/// The deliveries of one consumer, as an asynchronous sequence.
///
/// The broker sends at most `prefetch` unacknowledged messages, which bounds the buffer. The
/// sequence survives reconnects: after a broker restart the consumer is registered again and
/// deliveries resume. It ends when the consumer is cancelled or the connection closed.
public struct AMQPConsumer: AsyncSequence, Sendable {
    public typealias Element = AMQPDelivery

    /// The consumer tag, unique on its connection.
    public let tag: String
    let deliveries: AsyncStream<AMQPDelivery>
    let mailbox: Mailbox

    public func makeAsyncIterator() -> AsyncStream<AMQPDelivery>.AsyncIterator {
        deliveries.makeAsyncIterator()
    }

    /// Stops deliveries. Those already received can still be settled; the sequence ends after them.
    public func cancel() { mailbox.post(.cancel(consumerTag: tag)) }

    /// Why the broker does not deliver to this consumer right now, after a reconnect or a cancellation
    /// by the broker: the last failure to register it again (a queue deleted, a permission revoked).
    /// `nil` while it is registered, or while the connection itself is down (see ``AMQPConnection/lastError``).
    public var failure: AMQPError? { mailbox.consumerFailure(tag) }
}
