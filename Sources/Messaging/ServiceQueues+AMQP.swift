import AMQP
import MessagingConventions

extension ServiceQueues {
    /// Everything to declare: exchanges, queues and bindings.
    ///
    /// Every queue is a quorum queue. The retry queues dead-letter *at least once*, which RabbitMQ
    /// allows only with `x-overflow: reject-publish`: a message expiring from a retry queue is not
    /// lost if the broker crashes during the hop back.
    public var topology: AMQPTopology {
        let retryQueues = retryPolicy.tiers.indices.map { tier in
            AMQPTopology.Queue.quorum(
                retryQueue(tier: tier),
                arguments: [
                    "x-message-ttl": .int64(retryPolicy.tiers[tier].milliseconds),
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": .string(workQueue),
                    "x-dead-letter-strategy": "at-least-once",
                    "x-overflow": "reject-publish",
                ]
            )
        }
        return AMQPTopology(
            exchanges: subscriptions.map { AMQPTopology.Exchange(name: $0.exchange) },
            queues: [.quorum(workQueue), .quorum(parkingQueue)] + retryQueues,
            bindings: subscriptions.flatMap { subscription in
                subscription.routingKeys.map { AMQPTopology.Binding(queue: workQueue, exchange: subscription.exchange, routingKey: $0) }
            }
        )
    }

    /// The topology of a whole system: `exchanges`, and every queue, tier and binding of `services`.
    public static func topology(of services: [ServiceQueues], exchanges: [String]) -> AMQPTopology {
        services.reduce(AMQPTopology(exchanges: exchanges.map { AMQPTopology.Exchange(name: $0) })) { $0.merging($1.topology) }
    }
}

extension MessageHeaders {
    /// The attempt a delivery is on, from its ``MessagingConventions/MessageHeaders/attempts`` header: 1 when it has none.
    ///
    /// The header comes from the broker, so from anyone allowed to publish: any integer width, any value.
    ///
    /// - Throws: ``EnvelopeError`` when the header is not a whole number from 1 to `maxAttempts`.
    public static func attempt(in headers: AMQPTable) throws(EnvelopeError) -> Int {
        guard let value = headers[attempts] else { return 1 }
        guard let number = value.intValue, (1...Int64(maxAttempts)).contains(number) else {
            throw EnvelopeError("header \(attempts) must be a whole number from 1 to \(maxAttempts), not \(value.readable)")
        }
        return Int(number)
    }
}

extension AMQPFieldValue {
    /// The value as a parking reason quotes it: short, whatever it holds.
    var readable: String {
        switch self {
        case .string(let text): "'\(text.truncatedForReason)'"
        case .bytes(let bytes): "\(bytes.count) bytes"
        case .array(let values): "an array of \(values.count)"
        case .table(let table): "a table of \(table.count)"
        default: "\(self)".truncatedForReason
        }
    }
}
