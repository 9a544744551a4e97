extension Duration {
    /// The duration in whole nanoseconds, as metrics' timers and NIO's time amounts take it.
    public var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }

    /// The duration in whole microseconds.
    public var microseconds: Int64 { components.seconds * 1_000_000 + components.attoseconds / 1_000_000_000_000 }

    /// The duration in whole milliseconds, as RabbitMQ's `x-message-ttl` and PostgreSQL's `statement_timeout` take it.
    public var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }

    /// The duration in seconds, with its fraction.
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
