/// The pool's bookkeeping as a plain value: which connections are idle, how many slots are taken, who waits, and
/// when the next connection attempt may start. No I/O and no clocks of its own, so it is tested without a server.
///
/// Each method is one atomic step (the pool runs it under its mutex) and returns what the caller must do outside the
/// lock: resume a waiter, close a connection, open a new one.
struct PoolState<Connection, Waiter> {
    typealias Lease = PoolLease<Connection>

    /// The outcome of an acquire attempt.
    enum AcquireDecision {
        /// Use this idle connection.
        case use(Connection)
        /// A slot is reserved for the caller; it should open a connection.
        case open
        /// The caller was queued and will be resumed with a ``Lease``.
        case wait
        /// The pool is closed.
        case closed
    }

    /// The maximum number of connections, open or being opened.
    let capacity: Int
    /// Connections ready for use, most recently used last.
    private(set) var idle: [Connection] = []
    /// Slots taken: idle, leased, and being opened.
    private(set) var taken = 0
    /// Callers waiting for a connection, first come first served.
    private(set) var waiters: [(id: Int, waiter: Waiter)] = []
    private(set) var isClosed = false
    /// Failed connection attempts since the last success.
    private(set) var consecutiveFailures = 0
    /// The earliest time the next connection attempt should start, after failures.
    private(set) var retryNotBefore: ContinuousClock.Instant?
    /// Why the last connection attempt failed, reported to callers who cannot wait for the next one.
    private(set) var lastFailure: (any Error)?

    init(capacity: Int) {
        precondition(capacity > 0, "a pool needs room for at least one connection")
        self.capacity = capacity
    }

    /// Takes an idle connection, reserves a slot to open one, or queues the waiter.
    mutating func acquire(id: Int, waiter: Waiter) -> AcquireDecision {
        if isClosed { return .closed }
        if let connection = idle.popLast() { return .use(connection) }
        if taken < capacity {
            taken += 1
            return .open
        }
        waiters.append((id, waiter))
        return .wait
    }

    /// Returns a leased connection. A reusable one goes to the first waiter or back to the idle list; otherwise it
    /// must be closed, and its slot goes to the first waiter as a permit to open a replacement.
    mutating func release(_ connection: Connection, reusable: Bool) -> (close: Connection?, handoff: (Waiter, Lease)?) {
        if isClosed {
            taken -= 1
            return (connection, nil)
        }
        if reusable {
            if !waiters.isEmpty { return (nil, (waiters.removeFirst().waiter, .connection(connection))) }
            idle.append(connection)
            return (nil, nil)
        }
        return (connection, freeSlot())
    }

    /// A connection was opened in a reserved slot.
    ///
    /// - Returns: `false` if the pool closed meanwhile; the slot is freed and the caller must close the connection.
    mutating func opened() -> Bool {
        consecutiveFailures = 0
        retryNotBefore = nil
        lastFailure = nil
        if isClosed {
            taken -= 1
            return false
        }
        return true
    }

    /// Opening a connection in a reserved slot failed: records the failure, schedules the next attempt after
    /// `backoff`, and frees the slot (handing it to the first waiter as a permit).
    mutating func openFailed(_ error: any Error, now: ContinuousClock.Instant, backoff: Duration) -> (Waiter, Lease)? {
        consecutiveFailures += 1
        retryNotBefore = now + backoff
        lastFailure = error
        return freeSlot()
    }

    /// Gives up a reserved slot without opening a connection (the caller timed out or was cancelled first).
    mutating func abandonSlot() -> (Waiter, Lease)? {
        freeSlot()
    }

    /// Removes a waiter that stopped waiting (timeout, cancellation); `nil` if it was already resumed.
    mutating func removeWaiter(id: Int) -> Waiter? {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return nil }
        return waiters.remove(at: index).waiter
    }

    /// Closes the pool: returns the idle connections to close and the waiters to fail. Leased connections are
    /// closed as they are released.
    mutating func close() -> (idle: [Connection], waiters: [Waiter]) {
        isClosed = true
        let connections = idle
        let waiting = waiters.map(\.waiter)
        taken -= idle.count
        idle.removeAll()
        waiters.removeAll()
        return (connections, waiting)
    }

    private mutating func freeSlot() -> (Waiter, Lease)? {
        if !isClosed && !waiters.isEmpty { return (waiters.removeFirst().waiter, .permit) }
        taken -= 1
        return nil
    }
}

/// What a waiting caller receives: a connection ready for use, or permission to open one in a slot reserved for it.
enum PoolLease<Connection> {
    case connection(Connection)
    case permit
}

/// Delays between attempts, as pure functions: exponential growth with jitter so that callers who failed together
/// do not retry together.
enum PostgresBackoff {
    /// "Equal jitter": half of `min(cap, base · 2^(attempt−1))` plus a random share of the other half.
    ///
    /// - Parameter attempt: 1 for the delay after the first failure.
    /// - Parameter random: a number in `0...1`; injected so tests are deterministic.
    static func delay(attempt: Int, base: Duration, cap: Duration, random: Double = Double.random(in: 0...1)) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let ceiling = min(cap, base * (1 << exponent))
        return ceiling / 2 + (ceiling / 2) * random
    }
}

extension PoolLease: Sendable where Connection: Sendable {}
