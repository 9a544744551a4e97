import AMQP

/// The queues of one service: its work queue, its retry tiers and its parking queue, and how
/// they are wired.
///
/// ```
/// exchange ──binding──▶ <service>            (quorum; what the service consumes)
/// <service>.retry.<delay> ──TTL, dead-letter──▶ <service>   (one per tier)
/// <service>.dead                             (parked: never retried automatically)
/// ```
///
/// Every queue is a quorum queue. The retry queues dead-letter *at least once*, which RabbitMQ
/// allows only with `x-overflow: reject-publish`: a message expiring from a retry queue is not
/// lost if the broker crashes during the hop back.
public struct ServiceQueues: Sendable, Hashable {
    /// The service name, which is also the work queue's name (`payment`).
    public var service: String
    /// The routing keys the work queue takes from each exchange.
    public var subscriptions: [Subscription]
    public var retryPolicy: RetryPolicy

    /// A binding of the work queue: `routingKeys` on `exchange`.
    public struct Subscription: Sendable, Hashable {
        public var exchange: String
        public var routingKeys: [String]

        public init(exchange: String, routingKeys: [String]) {
            self.exchange = exchange
            self.routingKeys = routingKeys
        }
    }

    public init(service: String, subscriptions: [Subscription], retryPolicy: RetryPolicy = RetryPolicy()) {
        self.service = service
        self.subscriptions = subscriptions
        self.retryPolicy = retryPolicy
    }

    public var workQueue: String { service }
    public var parkingQueue: String { "\(service).dead" }

    /// The retry queue of tier `tier`.
    public func retryQueue(tier: Int) -> String { "\(service).retry.\(retryPolicy.tiers[tier].label)" }

    /// Everything to declare: exchanges, queues and bindings.
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
}

/// The headers Orderly adds to retried and parked messages.
public enum MessageHeaders {
    /// How many times the message has been handled so far (a retried message carries it).
    public static let attempts = "x-orderly-attempts"
    /// The most attempts a message may claim; far above any retry policy, far below any integer limit.
    public static let maxAttempts = 1000

    /// The attempt a delivery is on, from its ``attempts`` header: 1 when it has none.
    ///
    /// The header comes from the broker, so from anyone allowed to publish: any integer width, any value.
    ///
    /// - Throws: ``EnvelopeError`` when the header is not a whole number from 1 to ``maxAttempts``.
    public static func attempt(in headers: AMQPTable) throws(EnvelopeError) -> Int {
        guard let value = headers[attempts] else { return 1 }
        guard let number = value.intValue, (1...Int64(maxAttempts)).contains(number) else {
            throw EnvelopeError("header \(attempts) must be a whole number from 1 to \(maxAttempts), not \(value.readable)")
        }
        return Int(number)
    }
    /// The last failure, on retried and parked messages.
    public static let lastError = "x-orderly-last-error"
    /// Why the message was parked.
    public static let parkedReason = "x-orderly-parked-reason"
    /// When it was parked.
    public static let parkedAt = "x-orderly-parked-at"
    /// `transient` (retries exhausted) or `permanent`.
    public static let failureKind = "x-orderly-failure-kind"
    /// Where the message first came from.
    public static let originalExchange = "x-orderly-original-exchange"
    public static let originalRoutingKey = "x-orderly-original-routing-key"
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
