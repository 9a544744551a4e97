import Logging
import Synchronization

/// A bounded set of connections shared by many tasks, with transactions that retry when PostgreSQL asks for it.
///
/// Connections are opened lazily, up to `size`. A caller that finds none idle and no room waits in a fair (FIFO)
/// queue for one to be released, for at most `acquireTimeout`, and gives up early if its task is cancelled.
/// A connection that broke (an error left `PQstatus` not OK), was cancelled mid-statement, or was left inside a
/// transaction is closed instead of being reused; an idle connection is checked before it is handed out, so one
/// that the server closed while idle (a restart) is replaced transparently. After a failed connection attempt the
/// next one waits a jittered, growing delay, so a pool recovers by itself once the server is back without
/// hammering it while it is down.
///
/// Failure modes, all ``PostgresError``: ``PostgresError/Code/connectionFailed`` (transient) when a connection
/// cannot be opened, ``PostgresError/Code/timeout`` (transient) when no connection came free in time,
/// ``PostgresError/Code/cancelled`` when the task was cancelled while waiting, ``PostgresError/Code/poolClosed``
/// after ``close()``.
public final class PostgresPool: Sendable {
    /// Where connections go.
    public let configuration: PostgresConfiguration
    /// The maximum number of open connections.
    public let size: Int
    /// How long a caller waits for a connection to come free before failing with ``PostgresError/Code/timeout``.
    public let acquireTimeout: Duration
    private let logger: Logger
    private let state: Mutex<PoolState<PostgresConnection, Waiter>>
    private let nextWaiterID = Atomic<Int>(0)

    typealias Lease = PoolLease<PostgresConnection>
    typealias Waiter = CheckedContinuation<Lease, any Error>

    /// The delay before the first retry of a failed connection attempt; it doubles per failure up to
    /// ``connectBackoffCap``.
    static let connectBackoffBase: Duration = .milliseconds(50)
    /// The longest delay between connection attempts.
    static let connectBackoffCap: Duration = .seconds(2)

    /// Creates a pool; no connection is opened until the first use.
    ///
    /// - Parameters:
    ///   - configuration: where to connect.
    ///   - size: the maximum number of connections (at least 1).
    ///   - acquireTimeout: how long a caller may wait for a free connection.
    ///   - logger: receives connection lifecycle and retry messages, with `postgres.connection.id` metadata.
    public init(configuration: PostgresConfiguration, size: Int = 10, acquireTimeout: Duration = .seconds(10), logger: Logger) {
        self.configuration = configuration
        self.size = max(1, size)
        self.acquireTimeout = acquireTimeout
        self.logger = logger
        self.state = Mutex(PoolState(capacity: max(1, size)))
    }

    // MARK: - Using connections

    /// Lends a connection to `body` and takes it back afterwards, also when `body` throws.
    ///
    /// If `body` leaves a transaction open, it is rolled back before the connection is reused.
    ///
    /// - Throws: the pool's acquire errors (see the type's documentation) or whatever `body` throws.
    public func withConnection<T>(
        callerIsolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let connection = try await acquire()
        let value: T
        do {
            value = try await body(connection)
        } catch {
            await release(connection)
            throw error
        }
        await release(connection)
        return value
    }

    /// Runs one statement on a pooled connection and returns its rows; see ``PostgresConnection/query(_:)``.
    public func query(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await withConnection { try await $0.query(query) }
    }

    /// Runs one statement on a pooled connection and returns the affected row count;
    /// see ``PostgresConnection/execute(_:)``.
    @discardableResult
    public func execute(_ query: PostgresQuery) async throws -> Int {
        try await withConnection { try await $0.execute(query) }
    }

    /// Sends several statements in one round trip on a pooled connection; see ``PostgresConnection/pipeline(_:)``.
    public func pipeline(_ queries: [PostgresQuery]) async throws -> [[PostgresRow]] {
        try await withConnection { try await $0.pipeline(queries) }
    }

    /// Runs `body` in a transaction, retrying the whole closure when PostgreSQL says running it again will work.
    ///
    /// Each attempt takes a connection, sends `BEGIN ISOLATION LEVEL …`, runs `body`, and sends `COMMIT`; when
    /// `body` throws, the transaction is rolled back and the error rethrown. An attempt is retried, after a jittered
    /// exponential delay and on a fresh connection if needed, when it failed with a serialization failure (`40001`,
    /// also at `COMMIT`), a deadlock (`40P01`), or a lost or failed connection *before* `COMMIT` was sent. `body` may
    /// therefore run several times: keep side effects outside the database out of it, or make them idempotent.
    /// ``PostgresTransaction/attempt`` tells which run it is.
    ///
    /// - Parameters:
    ///   - isolation: the isolation level of each attempt.
    ///   - maxAttempts: how many times `body` may run in total (at least 1).
    ///   - callerIsolation: the caller's actor, which `body` runs on (left to its default).
    ///   - body: the transaction's work.
    /// - Throws: the last attempt's error; ``PostgresError/Code/commitOutcomeUnknown`` (never retried) when the
    ///   connection died while `COMMIT` was in flight.
    public func transaction<T>(
        isolation: PostgresTransaction.IsolationLevel = .readCommitted,
        maxAttempts: Int = 5,
        callerIsolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresTransaction) async throws -> T
    ) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await withConnection(callerIsolation: callerIsolation) { connection in
                    try await connection.transaction(
                        isolation: isolation,
                        attempt: attempt,
                        callerIsolation: callerIsolation,
                        body
                    )
                }
            } catch let error as PostgresError where attempt < maxAttempts && Self.shouldRetryTransaction(after: error) {
                let delay = PostgresBackoff.delay(attempt: attempt, base: .milliseconds(10), cap: .seconds(1))
                logger.debug(
                    "postgres transaction retried",
                    metadata: ["postgres.attempt": "\(attempt)", "postgres.retry.delay": "\(delay)", "error": "\(error)"]
                )
                try await Task.sleep(for: delay)
                attempt += 1
            }
        }
    }

    /// Whether a transaction attempt that failed with `error` may simply run again: the server rolled it back
    /// (serialization failure, deadlock) or it never reached `COMMIT` (lost or failed connection).
    static func shouldRetryTransaction(after error: PostgresError) -> Bool {
        switch error.code {
        case .connectionLost, .connectionFailed:
            return true
        case .server:
            return error.isSerializationFailure
        default:
            return false
        }
    }

    /// Closes idle connections now, and leased ones as they are released; waiting callers fail with
    /// ``PostgresError/Code/poolClosed``, as does every later use. Closing twice does nothing.
    public func close() async {
        let (idle, waiters) = state.withLock { $0.close() }
        for waiter in waiters {
            waiter.resume(throwing: PostgresError(code: .poolClosed, message: "the pool was closed"))
        }
        for connection in idle { await connection.close() }
    }

    // MARK: - Acquire and release

    /// Takes a connection: an idle one that is still alive, a new one if there is room, or the next one released.
    func acquire() async throws -> PostgresConnection {
        let deadline = ContinuousClock.now + acquireTimeout
        var lease = try await lease(deadline: deadline)
        while true {
            switch lease {
            case .connection(let connection):
                if await connection.checkAlive() { return connection }
                logger.debug("postgres pool replaces a dead idle connection", metadata: ["postgres.connection.id": "\(connection.id)"])
                await connection.close()
                lease = .permit
            case .permit:
                return try await open(deadline: deadline)
            }
        }
    }

    /// Gives a connection back: reused if it is healthy and outside a transaction, otherwise closed and replaced
    /// for the next waiter.
    func release(_ connection: PostgresConnection) async {
        if connection.isUsable && connection.isInTransaction {
            await connection.rollback()
        }
        let reusable = connection.isUsable && !connection.isInTransaction
        let (toClose, handoff) = state.withLock { $0.release(connection, reusable: reusable) }
        handoff.map { waiter, lease in waiter.resume(returning: lease) }
        if let toClose {
            if !reusable {
                logger.debug("postgres pool discards a connection", metadata: ["postgres.connection.id": "\(toClose.id)"])
            }
            await toClose.close()
        }
    }

    /// Decides, under the lock, between an idle connection, a slot to open one in, and the queue; waits in the
    /// queue until a lease is handed over, the deadline passes, or the task is cancelled.
    private func lease(deadline: ContinuousClock.Instant) async throws -> Lease {
        let id = nextWaiterID.add(1, ordering: .relaxed).newValue
        let timer = Mutex<Task<Void, Never>?>(nil)
        defer { timer.withLock { $0?.cancel() } }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Lease, any Error>) in
                let decision = state.withLock { state -> PoolState<PostgresConnection, Waiter>.AcquireDecision? in
                    // Checked under the lock: a cancellation after this point finds the waiter in the queue.
                    if Task.isCancelled { return nil }
                    return state.acquire(id: id, waiter: continuation)
                }
                switch decision {
                case nil:
                    continuation.resume(throwing: PostgresError(code: .cancelled, message: "the task was cancelled while waiting for a connection"))
                case .use(let connection):
                    continuation.resume(returning: .connection(connection))
                case .open:
                    continuation.resume(returning: .permit)
                case .closed:
                    continuation.resume(throwing: PostgresError(code: .poolClosed, message: "the pool is closed"))
                case .wait:
                    timer.withLock {
                        $0 = Task { [self] in
                            try? await Task.sleep(until: deadline, clock: .continuous)
                            guard !Task.isCancelled, let waiter = state.withLock({ $0.removeWaiter(id: id) }) else { return }
                            waiter.resume(throwing: self.acquireTimedOut())
                        }
                    }
                }
            }
        } onCancel: {
            if let waiter = state.withLock({ $0.removeWaiter(id: id) }) {
                waiter.resume(throwing: PostgresError(code: .cancelled, message: "the task was cancelled while waiting for a connection"))
            }
        }
    }

    /// Opens a connection in a reserved slot, first waiting out the backoff after earlier failures.
    private func open(deadline: ContinuousClock.Instant) async throws -> PostgresConnection {
        let (notBefore, lastFailure) = state.withLock { ($0.retryNotBefore, $0.lastFailure) }
        if let notBefore, notBefore > .now {
            do {
                guard notBefore <= deadline else {
                    throw (lastFailure as? PostgresError) ?? acquireTimedOut()
                }
                try await Task.sleep(until: notBefore, clock: .continuous)
            } catch {
                giveUpSlot()
                throw (error is CancellationError)
                    ? PostgresError(code: .cancelled, message: "the task was cancelled while waiting to reconnect")
                    : error
            }
        }
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: configuration, logger: logger)
        } catch {
            let handoff = state.withLock { state in
                let backoff = PostgresBackoff.delay(
                    attempt: state.consecutiveFailures + 1,
                    base: Self.connectBackoffBase,
                    cap: Self.connectBackoffCap
                )
                return state.openFailed(error, now: .now, backoff: backoff)
            }
            handoff.map { waiter, lease in waiter.resume(returning: lease) }
            logger.warning("postgres pool cannot open a connection", metadata: ["error": "\(error)"])
            throw error
        }
        guard state.withLock({ $0.opened() }) else {
            await connection.close()
            throw PostgresError(code: .poolClosed, message: "the pool was closed")
        }
        return connection
    }

    private func giveUpSlot() {
        let handoff = state.withLock { $0.abandonSlot() }
        handoff.map { waiter, lease in waiter.resume(returning: lease) }
    }

    private func acquireTimedOut() -> PostgresError {
        PostgresError(
            code: .timeout,
            message: "no connection became free within \(acquireTimeout) (pool size \(size))"
        )
    }
}
