/// When a batch is closed: at once while work trickles in, after a short bounded wait while it pours in.
///
/// Every batch pays one transaction, one commit and one acknowledgement whatever it holds, so the cost
/// of a message falls as batches grow. Without a wait a consumer takes what has arrived the moment the
/// last batch is done, and at any rate it keeps up with that is one or two messages: batches would fill
/// only once a backlog had already cost the latency. So a batch lingers, up to ``linger``, for more to
/// arrive, but only when the rhythm says they are coming: more than one is waiting already, or the last
/// batch held more than one. A quiet queue (one message at a time) never waits, so idle latency is what it
/// was; as the rate rises, lingering fills batches, which makes each message cheaper, which keeps the
/// latency bounded by the linger rather than by a backlog.
///
/// A pure value: `DeliveryBuffer` and ``OutboxRelay`` ask it and carry out what it says.
public struct BatchRhythm: Sendable, Hashable {
    /// The most messages in one batch.
    public var limit: Int
    /// The longest a batch waits for more; zero never waits.
    public var linger: Duration
    /// How many the last batch held.
    public private(set) var last = 0

    /// The linger a service uses unless `ORDERLY_BATCH_LINGER_MS` says otherwise.
    public static let defaultLinger: Duration = .milliseconds(4)

    public init(limit: Int, linger: Duration = defaultLinger) {
        self.limit = max(1, limit)
        self.linger = max(.zero, linger)
    }

    /// Whether to wait for more before closing a batch out of the `waiting` messages at hand.
    public func shouldLinger(waiting: Int) -> Bool {
        linger > .zero && waiting > 0 && waiting < limit && (waiting > 1 || last > 1)
    }

    /// Records the size of the batch just closed.
    public mutating func closed(_ size: Int) { last = size }
}
