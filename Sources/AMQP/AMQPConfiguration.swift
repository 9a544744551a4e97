import Foundation

/// How to reach the broker and how the connection behaves under trouble.
///
/// A connection to a RabbitMQ cluster is given every node it may use: ``host`` and ``port`` name the
/// node it tries first, ``failover`` the others, in the order it tries them. It is connected to one
/// node at a time; when that node cannot be reached or the connection to it is lost, it moves on to
/// the next.
public struct AMQPConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// More nodes of the same cluster, tried in turn after ``host``:``port``.
    public var failover: [AMQPAddress]
    public var user: String
    public var password: String
    public var virtualHost: String
    /// Negotiated with the broker; a dead peer is detected after two missed beats.
    public var heartbeat: Duration
    public var connectTimeout: Duration
    /// The limit for a synchronous request (declare, purge, a queue's status) to be answered; a `consume`
    /// waits for a connection without one, and its first start answers it.
    public var requestTimeout: Duration
    /// How long a publish may wait — for the window, a reconnect, or an unblocked connection — before it fails.
    public var publishTimeout: Duration
    /// The most messages published and not yet confirmed by the broker.
    public var publishWindow: Int
    /// Delays between reconnection attempts.
    public var reconnectBackoff: Backoff
    /// Shown in the broker's connection list.
    public var connectionName: String

    public init(
        host: String = "127.0.0.1",
        port: Int = 5672,
        failover: [AMQPAddress] = [],
        user: String = "guest",
        password: String = "guest",
        virtualHost: String = "/",
        heartbeat: Duration = .seconds(10),
        connectTimeout: Duration = .seconds(5),
        requestTimeout: Duration = .seconds(15),
        publishTimeout: Duration = .seconds(30),
        publishWindow: Int = 1024,
        reconnectBackoff: Backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(5)),
        connectionName: String = "orderly"
    ) {
        self.host = host
        self.port = port
        self.failover = failover
        self.user = user
        self.password = password
        self.virtualHost = virtualHost
        self.heartbeat = heartbeat
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.publishTimeout = publishTimeout
        self.publishWindow = publishWindow
        self.reconnectBackoff = reconnectBackoff
        self.connectionName = connectionName
    }

    /// Every address the connection tries, in order: ``host``:``port``, then ``failover``.
    public var addresses: [AMQPAddress] { [AMQPAddress(host: host, port: port)] + failover }

    /// Reads `amqp://user:password@host:port/vhost?failover=host2:port2,host3:port3`, or the same
    /// cluster as `amqp://user:password@host:port,host2:port2,host3:port3/vhost`.
    ///
    /// The vhost is percent-decoded and `/` when absent. The query may carry `heartbeat` (seconds),
    /// `connection_timeout` (milliseconds) and `failover`: more nodes of the same cluster, separated
    /// by commas, each `host`, `host:port` or `[ipv6]:port` (port 5672 when absent). A list of hosts
    /// in the URL's authority is read as its first host and a failover list of the others (see
    /// ``singleHostURL(_:)``); with a `failover` query too, the authority's hosts come first.
    ///
    /// - Throws: ``AMQPError`` with code `.invalidConfiguration` naming what is wrong.
    public init(url: String) throws {
        guard let components = URLComponents(string: Self.singleHostURL(url)), components.scheme == "amqp" else {
            throw AMQPError(.invalidConfiguration, "not an amqp:// URL: \(url)")
        }
        self.init()
        if let host = components.host, !host.isEmpty { self.host = host }
        if let port = components.port { self.port = port }
        if let user = components.user { self.user = user }
        if let password = components.password { self.password = password }
        let path = components.percentEncodedPath
        if path.count > 1 {
            guard let vhost = String(path.dropFirst()).removingPercentEncoding else {
                throw AMQPError(.invalidConfiguration, "bad virtual host in \(url)")
            }
            virtualHost = vhost
        }
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch (item.name, Int(value)) {
            case ("failover", _):
                failover += try value.split(separator: ",", omittingEmptySubsequences: false).map {
                    try AMQPAddress(parsing: $0.trimmingCharacters(in: .whitespaces))
                }
            case ("heartbeat", let number?):
                guard (0...65535).contains(number) else {
                    throw AMQPError(.invalidConfiguration, "heartbeat must be between 0 and 65535 seconds, not \(number)")
                }
                heartbeat = .seconds(number)
            case ("connection_timeout", let number?): connectTimeout = .milliseconds(number)
            default: continue
            }
        }
    }
}

/// Exponential backoff with jitter: `initial`, doubling each attempt up to `maximum`, each delay
/// drawn from its upper half so that many clients do not retry in step.
public struct Backoff: Sendable, Hashable {
    public var initial: Duration
    public var maximum: Duration

    public init(initial: Duration, maximum: Duration) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The delay before attempt `attempt` (0 for the first retry).
    public func delay(attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let ceiling = min(maximum, initial * (1 << min(attempt, 30)))
        return ceiling * Double.random(in: 0.5...1.0, using: &generator)
    }

    /// The delay before attempt `attempt`, with the system's random numbers.
    public func delay(attempt: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(attempt: attempt, using: &generator)
    }
}
