/// Exchanges, queues and bindings to declare; recorded by the connection and declared again after every reconnect.
public struct AMQPTopology: Sendable, Hashable {
    public var exchanges: [Exchange]
    public var queues: [Queue]
    public var bindings: [Binding]

    public init(exchanges: [Exchange] = [], queues: [Queue] = [], bindings: [Binding] = []) {
        self.exchanges = exchanges
        self.queues = queues
        self.bindings = bindings
    }

    /// Everything in `self`, then what `other` adds.
    public func merging(_ other: AMQPTopology) -> AMQPTopology {
        func union<T: Hashable>(_ a: [T], _ b: [T]) -> [T] { a + b.filter { !a.contains($0) } }
        return AMQPTopology(
            exchanges: union(exchanges, other.exchanges),
            queues: union(queues, other.queues),
            bindings: union(bindings, other.bindings)
        )
    }

    /// An exchange declaration.
    public struct Exchange: Sendable, Hashable {
        public var name: String
        public var type: String
        public var durable: Bool
        public var arguments: AMQPTable

        public init(name: String, type: String = "topic", durable: Bool = true, arguments: AMQPTable = [:]) {
            self.name = name
            self.type = type
            self.durable = durable
            self.arguments = arguments
        }
    }

    /// A queue declaration; quorum queues, TTLs and dead-letter settings go in `arguments`.
    public struct Queue: Sendable, Hashable {
        public var name: String
        public var durable: Bool
        public var exclusive: Bool
        public var autoDelete: Bool
        public var arguments: AMQPTable

        public init(name: String, durable: Bool = true, exclusive: Bool = false, autoDelete: Bool = false, arguments: AMQPTable = [:]) {
            self.name = name
            self.durable = durable
            self.exclusive = exclusive
            self.autoDelete = autoDelete
            self.arguments = arguments
        }

        /// A durable quorum queue with the given extra arguments.
        public static func quorum(_ name: String, arguments: AMQPTable = [:]) -> Queue {
            Queue(name: name, arguments: arguments.merging(["x-queue-type": "quorum"]) { current, _ in current })
        }
    }

    /// A binding of a queue to an exchange by routing-key pattern.
    public struct Binding: Sendable, Hashable {
        public var queue: String
        public var exchange: String
        public var routingKey: String
        public var arguments: AMQPTable

        public init(queue: String, exchange: String, routingKey: String, arguments: AMQPTable = [:]) {
            self.queue = queue
            self.exchange = exchange
            self.routingKey = routingKey
            self.arguments = arguments
        }
    }
}

/// What the broker says of a queue.
public struct AMQPQueueStatus: Sendable, Hashable {
    /// Messages ready for delivery (not those delivered and unacknowledged).
    public var messageCount: UInt32
    public var consumerCount: UInt32

    public init(messageCount: UInt32, consumerCount: UInt32) {
        self.messageCount = messageCount
        self.consumerCount = consumerCount
    }
}
