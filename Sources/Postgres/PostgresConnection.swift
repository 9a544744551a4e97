import Dispatch
import Logging
import Synchronization

/// One connection to PostgreSQL, driving libpq on a thread of its own.
///
/// Each connection owns a dedicated OS thread to which its `PGconn` is confined; every method submits a job to that
/// thread and suspends (through a checked continuation) until the job is done, so libpq's blocking calls never
/// occupy Swift's cooperative thread pool. Calls from several tasks are safe and run one after another in the order
/// they were made. Most code should use ``PostgresPool`` rather than connections directly.
///
/// Cancelling the calling task while a statement runs asks the server to cancel it (`PQcancel`, off the cooperative
/// pool); the call then fails with the server's `57014` error and the connection is marked so a pool discards it.
///
/// Close connections with ``close()``; a connection that is released without closing is closed when deinitialized.
public final class PostgresConnection: Sendable {
    /// A number identifying this connection in logs (`postgres.connection.id`).
    public let id: Int
    /// The logger the connection logs to, with `postgres.connection.id` metadata.
    let logger: Logger
    private let thread: ConnectionThread
    private let handle: LibPQConnection
    private let status: Mutex<Status>

    /// What callers may know about the connection without hopping onto its thread; refreshed after every job.
    private struct Status {
        var isClosed = false
        var isBroken = false
        var isInTransaction = false
        var wasCancelled = false
    }

    private static let nextID = Atomic<Int>(0)

    private init(id: Int, thread: ConnectionThread, handle: LibPQConnection, logger: Logger) {
        self.id = id
        self.thread = thread
        self.handle = handle
        self.logger = logger
        self.status = Mutex(Status())
    }

    deinit {
        let handle = self.handle
        thread.stop(finally: { handle.finish() })
    }

    /// Opens a connection.
    ///
    /// The blocking connect runs on the new connection's own thread and is bounded by
    /// ``PostgresConfiguration/connectTimeout``.
    ///
    /// - Throws: ``PostgresError`` with code ``PostgresError/Code/connectionFailed`` (transient) when the server is
    ///   unreachable, refuses the login, or is starting or shutting down.
    public static func connect(configuration: PostgresConfiguration, logger: Logger) async throws -> PostgresConnection {
        let id = nextID.add(1, ordering: .relaxed).newValue
        var logger = logger
        logger[metadataKey: "postgres.connection.id"] = "\(id)"
        let thread = ConnectionThread(name: "postgres-connection-\(id)")
        let connectLogger = logger
        do {
            let handle: LibPQConnection = try await withCheckedThrowingContinuation { continuation in
                thread.submit {
                    continuation.resume(
                        with: Result { () throws(PostgresError) in
                            try LibPQConnection.connect(configuration, logger: connectLogger)
                        })
                }
            }
            logger.debug("postgres connection opened", metadata: ["postgres.backend.pid": "\(handle.backendPID)"])
            return PostgresConnection(id: id, thread: thread, handle: handle, logger: logger)
        } catch {
            thread.stop()
            logger.debug("postgres connection failed", metadata: ["error": "\(error)"])
            throw error
        }
    }

    /// Runs a statement and returns its rows (none for statements that return none).
    ///
    /// - Throws: ``PostgresError``: ``PostgresError/Code/server`` with the SQLSTATE when the server rejects it,
    ///   ``PostgresError/Code/connectionLost`` when the connection broke, ``PostgresError/Code/connectionClosed``
    ///   after ``close()``, ``PostgresError/Code/cancelled`` when the task was cancelled before it ran.
    public func query(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await run(query.sql) { connection throws(PostgresError) in try connection.execute(query).rows }
    }

    /// Runs a statement and returns the number of rows it affected (`PQcmdTuples`; 0 for statements without one).
    ///
    /// - Throws: as ``query(_:)``.
    @discardableResult
    public func execute(_ query: PostgresQuery) async throws -> Int {
        try await run(query.sql) { connection throws(PostgresError) in try connection.execute(query).affectedRows }
    }

    /// Runs SQL text that may hold several statements separated by `;`, with the simple query protocol.
    ///
    /// Meant for trusted scripts such as migrations: there are no parameters, and the text is sent as it is.
    /// Without an explicit transaction in the script, the statements run in one implicit transaction.
    ///
    /// - Throws: as ``query(_:)``.
    public func executeScript(_ sql: String) async throws {
        try await run(sql) { connection throws(PostgresError) in try connection.executeScript(sql) }
    }

    /// Sends several statements in one round trip (libpq pipeline mode) and returns each one's rows, in order.
    ///
    /// The statements run as one implicit transaction unless one is already open: if one fails, the ones before it
    /// are rolled back and the ones after it are skipped, and the call throws the failing statement's error (its
    /// ``PostgresError/query`` says which). Inside an explicit transaction a failure aborts that transaction.
    ///
    /// - Throws: as ``query(_:)``.
    public func pipeline(_ queries: [PostgresQuery]) async throws -> [[PostgresRow]] {
        let description = queries.map(\.sql).joined(separator: "; ")
        return try await run(description) { connection throws(PostgresError) in
            try connection.pipeline(queries).map(\.rows)
        }
    }

    /// Closes the connection after the work already submitted to it; later calls fail with
    /// ``PostgresError/Code/connectionClosed``. Closing twice does nothing.
    public func close() async {
        let alreadyClosed = status.withLock { status in
            defer { status.isClosed = true }
            return status.isClosed
        }
        guard !alreadyClosed else { return }
        let handle = self.handle
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let stopping = thread.stop(finally: {
                handle.finish()
                continuation.resume()
            })
            if !stopping { continuation.resume() }
        }
        logger.debug("postgres connection closed")
    }

    /// Whether ``close()`` was called.
    public var isClosed: Bool { status.withLock { $0.isClosed } }

    /// Whether the connection can take more work: not closed, not broken by an error, and no statement of it was
    /// cancelled (a cancel request may still be in flight to the server, so a pool should not hand it out again).
    public var isUsable: Bool {
        status.withLock { !$0.isClosed && !$0.isBroken && !$0.wasCancelled }
    }

    /// Whether the last statement left a transaction open or aborted on the connection.
    var isInTransaction: Bool { status.withLock { $0.isInTransaction } }

    /// The server process id serving this connection (as in `pg_stat_activity.pid`).
    public var backendPID: Int32 {
        get async throws { try await run("backend pid") { connection throws(PostgresError) in connection.backendPID } }
    }

    /// Checks on the connection's thread, without a round trip, that the server has not closed the connection.
    func checkAlive() async -> Bool {
        guard isUsable else { return false }
        return
            (try? await run("liveness check", cancellable: false) { connection throws(PostgresError) in
                connection.checkAlive()
            }) ?? false
    }

    /// Waits up to `timeoutMilliseconds` on the connection's thread for notifications.
    func awaitNotifications(timeoutMilliseconds: Int32) async throws -> [PostgresNotification] {
        try await run("wait for notifications", cancellable: false) { connection throws(PostgresError) in
            try connection.awaitNotifications(timeoutMilliseconds: timeoutMilliseconds)
        }
    }

    /// Submits `body` to the connection's thread and suspends until it ran.
    ///
    /// With `cancellable`, cancelling the task before the job starts skips it, and cancelling while it runs sends a
    /// cancel request to the server from a Dispatch queue (never the cooperative pool: `PQcancel` blocks).
    func run<T: Sendable>(
        _ operation: String,
        cancellable: Bool = true,
        _ body: @escaping @Sendable (LibPQConnection) throws(PostgresError) -> T
    ) async throws -> T {
        let ticket = JobTicket()
        let handle = self.handle
        logger.trace("postgres job", metadata: ["postgres.query": "\(operation)"])
        let job: @Sendable () async throws -> T = {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                let accepted = self.thread.submit {
                    guard ticket.begin() else {
                        continuation.resume(throwing: PostgresError(code: .cancelled, message: "the task was cancelled", query: operation))
                        return
                    }
                    let result = Result { () throws(PostgresError) in try body(handle) }
                    ticket.end()
                    let isOK = handle.isOK
                    let isInTransaction = handle.isInTransaction
                    self.status.withLock { status in
                        status.isBroken = !isOK
                        status.isInTransaction = isInTransaction
                    }
                    continuation.resume(with: result)
                }
                if !accepted {
                    continuation.resume(throwing: PostgresError(code: .connectionClosed, message: "the connection is closed", query: operation))
                }
            }
        }
        guard cancellable else { return try await job() }
        return try await withTaskCancellationHandler(operation: job) {
            guard ticket.cancel() else { return }
            self.status.withLock { $0.wasCancelled = true }
            DispatchQueue.global().async { handle.cancelToken.cancel() }
        }
    }
}

/// Whether a job submitted to a connection's thread is waiting, running, done, or cancelled before it ran.
private final class JobTicket: Sendable {
    private enum Phase { case pending, running, done, cancelled }
    private let phase = Mutex(Phase.pending)

    /// Marks the job running; `false` if it was cancelled first and must not run.
    func begin() -> Bool {
        phase.withLock { phase in
            guard phase == .pending else { return false }
            phase = .running
            return true
        }
    }

    func end() { phase.withLock { $0 = .done } }

    /// Cancels a pending job; returns `true` if the job is running, so the server must be asked to cancel it.
    func cancel() -> Bool {
        phase.withLock { phase in
            switch phase {
            case .pending:
                phase = .cancelled
                return false
            case .running:
                return true
            case .done, .cancelled:
                return false
            }
        }
    }
}
