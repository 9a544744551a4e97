import Timing

/// The lifecycle of one connection, with no I/O: when to connect and to which address, what a
/// failure or a loss does, whether publishing is blocked, and when a requested close is due.
///
/// ```
///                       connect ok
/// disconnected ──────────────────────▶ connected(blocked?) ◀──▶ blocked / unblocked
///  (retry at …) ◀──────────────────────        │
///       ▲  │ connect failed: next address,     │ lost
///       └──┘ backoff once all failed           ▼
///                                         disconnected ── close requested, nothing left ──▶ closed
/// ```
///
/// A close can be requested in either state: connected, the loop gets a grace period to have its
/// unconfirmed messages confirmed; disconnected, it closes at once.
struct ConnectionStateMachine: Sendable {
    enum State: Hashable, Sendable {
        /// No connection; the next attempt is due at `retryAt`.
        case disconnected(retryAt: ContinuousClock.Instant)
        /// Connected; `blockedBy` is the broker's reason while it blocks publishing (a memory or disk alarm).
        case connected(blockedBy: String?)
        /// Closed by the application; the loop has ended.
        case closed
    }

    /// How the loop answers a failed attempt or a lost connection.
    struct Reconnect: Equatable, Sendable {
        /// How long until the next attempt: zero while addresses of this round are untried.
        var delay: Duration
        /// Failed attempts since the last connection.
        var attempt: Int
        /// Whether to log the outage: when it starts, when its cause changes, and then about once a minute.
        var report: Bool
    }

    /// How long a close waits for unconfirmed publishes while connected.
    static let closeGrace = Duration.seconds(5)

    private(set) var state: State
    /// When a requested close happens at the latest.
    private(set) var closeDeadline: ContinuousClock.Instant?
    private var rotation: AddressRotation
    private let backoff: Backoff
    private var attempts = 0
    private var outageReports = Throttle(every: .seconds(60))

    init(addressCount: Int, backoff: Backoff, now: ContinuousClock.Instant = .now) {
        self.state = .disconnected(retryAt: now)
        self.rotation = AddressRotation(count: addressCount)
        self.backoff = backoff
    }

    var isConnected: Bool {
        if case .connected = state { return true }
        return false
    }

    /// Why the broker blocks publishing, while it does.
    var blockedReason: String? {
        if case .connected(let reason) = state { return reason }
        return nil
    }

    /// Whether messages may be sent: connected and not blocked.
    var canPublish: Bool { state == .connected(blockedBy: nil) }

    /// The address to try now, if an attempt is due.
    func addressToTry(at now: ContinuousClock.Instant) -> Int? {
        guard case .disconnected(let retryAt) = state, retryAt <= now else { return nil }
        return rotation.current
    }

    /// The next instant the loop must wake for, whatever happens on its sockets.
    var nextDeadline: ContinuousClock.Instant? {
        switch (state, closeDeadline) {
        case (.disconnected(let retryAt), let close?): min(retryAt, close)
        case (.disconnected(let retryAt), nil): retryAt
        case (_, let close): close
        }
    }

    /// The attempt on ``addressToTry(at:)`` succeeded.
    mutating func connected() {
        guard case .disconnected = state else { return }
        state = .connected(blockedBy: nil)
        rotation.connected()
        attempts = 0
        outageReports.reset()
    }

    /// The attempt on ``addressToTry(at:)`` failed: the next address is tried at once, and the
    /// connection backs off only once every address failed in a row.
    mutating func connectFailed(_ error: AMQPError, at now: ContinuousClock.Instant) -> Reconnect {
        disconnect(after: error, round: rotation.failed(), at: now)
    }

    /// The connection was lost; `nil` when there was none.
    mutating func connectionLost(_ error: AMQPError, at now: ContinuousClock.Instant) -> Reconnect? {
        guard isConnected else { return nil }
        return disconnect(after: error, round: rotation.lost(), at: now)
    }

    private mutating func disconnect(after error: AMQPError, round: Int?, at now: ContinuousClock.Instant) -> Reconnect {
        let delay = round.map { backoff.delay(attempt: $0) } ?? .zero
        attempts += 1
        state = .disconnected(retryAt: now + delay)
        // The cause is the kind of failure, not its text, which names the node tried.
        let report = outageReports.allows(cause: "\(error.code) \(error.replyCode ?? 0)", at: now)
        return Reconnect(delay: delay, attempt: attempts, report: report)
    }

    /// The broker blocked publishing (`connection.blocked`).
    mutating func blocked(_ reason: String) {
        guard isConnected else { return }
        state = .connected(blockedBy: reason)
    }

    /// The broker unblocked publishing (`connection.unblocked`).
    mutating func unblocked() {
        guard isConnected else { return }
        state = .connected(blockedBy: nil)
    }

    /// The application asked to close; `true` the first time.
    mutating func closeRequested(at now: ContinuousClock.Instant) -> Bool {
        guard closeDeadline == nil, state != .closed else { return false }
        closeDeadline = now + (isConnected ? Self.closeGrace : .zero)
        return true
    }

    /// Whether to shut down now: a close was requested and nothing awaits a confirm, or its grace is over.
    func shouldShutDown(unsettled: Int, at now: ContinuousClock.Instant) -> Bool {
        guard let closeDeadline, state != .closed else { return false }
        return unsettled == 0 || now >= closeDeadline
    }

    /// The loop shut down.
    mutating func shutDown() { state = .closed }
}
