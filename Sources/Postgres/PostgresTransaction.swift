import Synchronization

/// The handle a transaction's closure works through: the statements it runs belong to the open transaction.
///
/// Given to the closure of ``PostgresPool/transaction(isolation:maxAttempts:callerIsolation:_:)``. It is only valid
/// inside that closure; the transaction commits when the closure returns and rolls back when it throws.
///
/// Round trips to the connection's thread are what a busy service pays most for, so a transaction spends as few
/// as it can: `BEGIN` travels with the first statement, statements whose results nobody reads can travel with the
/// `COMMIT` (``deferUntilCommit(_:)``), and a transaction that ran nothing sends nothing.
public struct PostgresTransaction: Sendable {
    /// The connection the transaction runs on.
    public let connection: PostgresConnection
    /// Which attempt this is, starting at 1; above 1 when an earlier attempt hit a serialization failure, a deadlock
    /// or a lost connection and the whole closure is running again.
    public let attempt: Int
    /// The isolation level the transaction was started with.
    public let isolation: IsolationLevel
    let state: TransactionState

    /// A transaction isolation level, as in `BEGIN ISOLATION LEVEL …`.
    public enum IsolationLevel: String, Sendable, Hashable, CaseIterable {
        /// Each statement sees data committed before it began (PostgreSQL's default).
        case readCommitted = "READ COMMITTED"
        /// All statements see one snapshot; concurrent updates of the same rows fail with `40001`.
        case repeatableRead = "REPEATABLE READ"
        /// As if transactions ran one at a time; conflicting ones fail with `40001` and must be retried.
        case serializable = "SERIALIZABLE"

        var begin: String { "BEGIN ISOLATION LEVEL \(rawValue)" }
    }

    /// Runs a statement in the transaction and returns its rows; see ``PostgresConnection/query(_:)``.
    public func query(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await connection.run(query.sql) { [begin = state.takeBegin()] connection throws(PostgresError) in
            if let begin { try connection.executeScript(begin) }
            return try connection.execute(query).rows
        }
    }

    /// Runs a statement in the transaction and returns the affected row count; see ``PostgresConnection/execute(_:)``.
    @discardableResult
    public func execute(_ query: PostgresQuery) async throws -> Int {
        try await connection.run(query.sql) { [begin = state.takeBegin()] connection throws(PostgresError) in
            if let begin { try connection.executeScript(begin) }
            return try connection.execute(query).affectedRows
        }
    }

    /// Sends several statements of the transaction in one round trip; see ``PostgresConnection/pipeline(_:)``.
    /// A failure aborts the transaction, which then rolls back.
    public func pipeline(_ queries: [PostgresQuery]) async throws -> [[PostgresRow]] {
        let description = queries.map(\.sql).joined(separator: "; ")
        return try await connection.run(description) { [begin = state.takeBegin()] connection throws(PostgresError) in
            if let begin { try connection.executeScript(begin) }
            return try connection.pipeline(queries).map(\.rows)
        }
    }

    /// Runs `query` just before `COMMIT`, in the same round trip: for a write whose result nobody needs (an
    /// outbox insert, a delete). If it fails, the transaction rolls back and the commit throws its error.
    public func deferUntilCommit(_ query: PostgresQuery) { state.defer(query) }
}

/// What a transaction has sent and what waits for its commit.
final class TransactionState: Sendable {
    private let state: Mutex<(begin: String?, deferred: [PostgresQuery])>

    init(begin: String) { state = Mutex((begin, [])) }

    /// The `BEGIN` to send with the next statement, once.
    func takeBegin() -> String? {
        state.withLock { state in
            defer { state.begin = nil }
            return state.begin
        }
    }

    func `defer`(_ query: PostgresQuery) { state.withLock { $0.deferred.append(query) } }

    /// Whether `BEGIN` went out, and the statements left for the commit.
    var pending: (begun: Bool, deferred: [PostgresQuery]) { state.withLock { ($0.begin == nil, $0.deferred) } }
}

extension PostgresConnection {
    /// Runs `body` in one transaction on this connection, once: `BEGIN ISOLATION LEVEL …`, the closure, `COMMIT`;
    /// `ROLLBACK` when the closure throws.
    ///
    /// No retry happens here; ``PostgresPool/transaction(isolation:maxAttempts:callerIsolation:_:)`` retries on a
    /// fresh connection when that is safe.
    ///
    /// - Throws: the closure's error (after rolling back); the server's error if `BEGIN` or `COMMIT` fails (a
    ///   serialization failure at `COMMIT` means the transaction was rolled back); ``PostgresError/Code/commitOutcomeUnknown``
    ///   when the connection broke while `COMMIT` was in flight, so the transaction may or may not have committed.
    public func transaction<T>(
        isolation: PostgresTransaction.IsolationLevel = .readCommitted,
        callerIsolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresTransaction) async throws -> T
    ) async throws -> T {
        try await transaction(isolation: isolation, attempt: 1, callerIsolation: callerIsolation, body)
    }

    func transaction<T>(
        isolation: PostgresTransaction.IsolationLevel,
        attempt: Int,
        callerIsolation: isolated (any Actor)?,
        _ body: (PostgresTransaction) async throws -> T
    ) async throws -> T {
        let state = TransactionState(begin: isolation.begin)
        let value: T
        do {
            value = try await body(PostgresTransaction(connection: self, attempt: attempt, isolation: isolation, state: state))
        } catch {
            if state.pending.begun { await rollback() }
            throw error
        }
        let (begun, deferred) = state.pending
        // Nothing sent and nothing to send: there is nothing to commit.
        guard begun || !deferred.isEmpty else { return value }
        try await commit(begin: begun ? nil : isolation.begin, deferred: deferred)
        return value
    }

    /// Sends the deferred statements and `COMMIT` in one job (with `BEGIN` first if nothing went out before), turning a
    /// connection lost in flight into ``PostgresError/Code/commitOutcomeUnknown`` and a `COMMIT` that the server
    /// answered with `ROLLBACK` (the transaction had failed) into an error.
    private func commit(begin: String?, deferred: [PostgresQuery]) async throws {
        let tag = try await run("COMMIT", cancellable: false) { connection throws(PostgresError) in
            // A connection known to be dead before COMMIT is sent cannot have committed: the server rolls back the
            // transaction of a session it ends. The non-blocking check notices a session the server already closed
            // (say by a restart while the closure ran), which is then safe to retry rather than "unknown".
            guard connection.checkAlive() else {
                throw PostgresError(code: .connectionLost, message: "the connection broke before COMMIT", query: "COMMIT")
            }
            do throws(PostgresError) {
                if let begin { try connection.executeScript(begin) }
                for query in deferred { _ = try connection.execute(query) }
            } catch {
                if connection.isOK { _ = try? connection.execute("ROLLBACK") }
                throw error
            }
            do throws(PostgresError) {
                return try connection.execute("COMMIT").commandTag
            } catch  where error.code == .connectionLost {
                throw PostgresError(
                    code: .commitOutcomeUnknown,
                    message: "the connection broke while COMMIT was in flight; the transaction may or may not have committed (\(error.message))",
                    sqlState: error.sqlState,
                    query: "COMMIT"
                )
            }
        }
        guard tag != "ROLLBACK" else {
            throw PostgresError(
                code: .server,
                message: "the transaction was rolled back at COMMIT because a statement in it had failed",
                sqlState: "25P02",
                query: "COMMIT"
            )
        }
    }

    /// Rolls back, ignoring errors: a connection that cannot roll back is broken and will be discarded.
    /// Not cancellable, so a cancelled task still leaves the connection clean.
    func rollback() async {
        _ = try? await run("ROLLBACK", cancellable: false) { connection throws(PostgresError) in
            guard connection.isOK else { return }
            _ = try connection.execute("ROLLBACK")
        }
    }
}
