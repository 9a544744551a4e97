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

    /// The retry queues, shortest delay first.
    public var retryQueues: [String] { retryPolicy.tiers.indices.map(retryQueue(tier:)) }

    /// Every queue of the service: the work queue, the parking queue and the retry queues.
    public var queueNames: [String] { [workQueue, parkingQueue] + retryQueues }
}
