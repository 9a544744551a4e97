/// An error from the AMQP client: what went wrong, and the broker's reply code where it gave one.
///
/// `Code` is opaque so that new cases can be added without breaking callers; compare with the
/// static members (`error.code == .unroutable`).
public struct AMQPError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String

        /// The TCP connection or the AMQP handshake failed; the client retries with backoff.
        public static let connectionFailed = Code(name: "connectionFailed")
        /// The connection was lost (socket error, missed heartbeats, `connection.close`).
        public static let connectionLost = Code(name: "connectionLost")
        /// The broker closed a channel, for example because a queue's arguments did not match.
        public static let channelClosed = Code(name: "channelClosed")
        /// A `mandatory` message matched no queue and was returned by the broker.
        public static let unroutable = Code(name: "unroutable")
        /// The broker refused the message (`basic.nack`).
        public static let nacked = Code(name: "nacked")
        /// The broker blocked the connection (memory or disk alarm) for longer than the publish timeout.
        public static let blocked = Code(name: "blocked")
        /// The operation did not complete within its time limit.
        public static let timeout = Code(name: "timeout")
        /// The connection was closed by the application.
        public static let closed = Code(name: "closed")
        /// A URL or a setting was not valid.
        public static let invalidConfiguration = Code(name: "invalidConfiguration")
        /// The broker refused the login or an operation: wrong credentials (403 ACCESS_REFUSED), an unknown
        /// virtual host (530 NOT_ALLOWED), or a missing permission. Trying again changes nothing until an
        /// operator fixes the configuration or the broker's users.
        public static let refused = Code(name: "refused")

        public var description: String { name }
    }

    /// What kind of failure this is.
    public var code: Code
    /// The AMQP reply code (for example 404 NOT_FOUND, 406 PRECONDITION_FAILED), when the broker sent one.
    public var replyCode: UInt16?
    /// A human-readable explanation, including the broker's reply text where there is one.
    public var message: String

    public init(_ code: Code, replyCode: UInt16? = nil, _ message: String) {
        self.code = code
        self.replyCode = replyCode
        self.message = message
    }

    public var description: String {
        if let replyCode { return "AMQP \(code) (\(replyCode)): \(message)" }
        return "AMQP \(code): \(message)"
    }

    /// Whether trying again later may succeed: true for connection trouble, blocking, timeouts and nacks.
    public var isTransient: Bool {
        [.connectionFailed, .connectionLost, .blocked, .timeout, .nacked].contains(code)
    }

    /// Whether the broker refused access: a login it rejected, or an operation a permission forbids
    /// (reply codes 403 ACCESS_REFUSED and 530 NOT_ALLOWED).
    public var isRefusal: Bool { code == .refused || replyCode == 403 || replyCode == 530 }
}
