import Synchronization

/// The handle a transaction's closure works through: the statements it runs belong to the open transaction.
///
/// Given to the closure of ``PostgresPool/transaction(isolation:maxAttempts:callerIsolation:_:)``. It is only valid
/// inside that closure; the transaction commits when the closure returns and rolls back when it throws.
///
/// Round trips are what a busy service pays most for, so a transaction spends as few as it can: `BEGIN` travels
/// with the first statement, a statement whose result nobody reads travels with whichever goes out next, another
/// statement or the `COMMIT` (``sendWithNext(_:)``), and a transaction that ran nothing sends nothing.
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
        try await run([query]).last.rows
    }

    /// Runs a statement in the transaction and returns the affected row count; see ``PostgresConnection/execute(_:)``.
    @discardableResult
    public func execute(_ query: PostgresQuery) async throws -> Int {
        try await run([query]).last.affectedRows
    }

    /// Sends several statements of the transaction in one round trip; see ``PostgresConnection/pipeline(_:)``.
    /// A failure aborts the transaction, which then rolls back.
    public func pipeline(_ queries: [PostgresQuery]) async throws -> [[PostgresRow]] {
        guard !queries.isEmpty else { return [] }
        return try await run(queries, all: true).all.map(\.rows)
    }

    /// Sends `query` together with whatever the transaction sends next, another statement or the `COMMIT`, in
    /// one round trip: for a write whose result nobody needs (an outbox insert, a history row, a delete).
    /// Statements run in the order they were written, so one that comes after sees what this one did. If it
    /// fails, the statement it travelled with throws its error and the transaction rolls back.
    public func sendWithNext(_ query: PostgresQuery) { state.hold(query) }

    /// Runs `action` once this attempt of the transaction has ended: with `true` once `COMMIT` succeeded, with
    /// `false` when it rolled back, failed, or may or may not have committed
    /// (``PostgresError/Code/commitOutcomeUnknown``). For work that must follow the commit and never precede
    /// it, such as handing committed events to a publisher. It runs on the task that ran the transaction, before
    /// the connection goes back to its pool, so it must not block.
    public func onEnd(_ action: @escaping @Sendable (_ committed: Bool) -> Void) { state.onEnd(action) }

    /// Runs `queries` after `BEGIN` and the held statements, if any, in one round trip.
    private func run(_ queries: [PostgresQuery], all: Bool = false) async throws -> (
        last: LibPQConnection.QueryResult, all: [LibPQConnection.QueryResult]
    ) {
        let (begin, held) = state.takeUnsent()
        let statements = (begin.map { [PostgresQuery(unsafeSQL: $0)] } ?? []) + held + queries
        return try await connection.run(queries.map(\.sql).joined(separator: "; ")) { connection throws(PostgresError) in
            if statements.count == 1 {
                let result = try connection.execute(statements[0])
                return (result, [result])
            }
            let results = try connection.pipeline(statements)
            return (results[results.count - 1], all ? Array(results.suffix(queries.count)) : [])
        }
    }
}

/// What a transaction has not sent yet: `BEGIN`, until the first round trip, and the statements held for the next one.
final class TransactionState: Sendable {
    private let state: Mutex<(begin: String?, held: [PostgresQuery])>
    private let endings = Mutex<[@Sendable (Bool) -> Void]>([])

    init(begin: String) { state = Mutex((begin, [])) }

    func hold(_ query: PostgresQuery) { state.withLock { $0.held.append(query) } }

    func onEnd(_ action: @escaping @Sendable (Bool) -> Void) { endings.withLock { $0.append(action) } }

    /// Runs the actions registered with ``onEnd(_:)``, once.
    func end(committed: Bool) {
        let actions = endings.withLock { actions in
            defer { actions = [] }
            return actions
        }
        for action in actions { action(committed) }
    }

    /// `BEGIN` (the first time) and the held statements, to go out now.
    func takeUnsent() -> (begin: String?, held: [PostgresQuery]) {
        state.withLock { state in
            defer { (state.begin, state.held) = (nil, []) }
            return (state.begin, state.held)
        }
    }

    /// Whether `BEGIN` went out.
    var begun: Bool { state.withLock { $0.begin == nil } }
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
            if state.begun { await rollback() }
            state.end(committed: false)
            throw error
        }
        let (begin, held) = state.takeUnsent()
        // Nothing sent and nothing to send: there is nothing to commit.
        if begin == nil || !held.isEmpty {
            do {
                try await commit(begin: begin, held: held)
            } catch {
                state.end(committed: false)
                throw error
            }
        }
        state.end(committed: true)
        return value
    }

    /// Sends the held statements and `COMMIT` in one round trip (libpq's pipeline mode, with `BEGIN` first if
    /// nothing went out before), turning a connection lost in flight into
    /// ``PostgresError/Code/commitOutcomeUnknown`` and a `COMMIT` that the server answered with `ROLLBACK` (the
    /// transaction had failed) into an error.
    private func commit(begin: String?, held: [PostgresQuery]) async throws {
        let tag = try await run("COMMIT", cancellable: false) { connection throws(PostgresError) in
            // A connection known to be dead before COMMIT is sent cannot have committed: the server rolls back the
            // transaction of a session it ends. The non-blocking check notices a session the server already closed
            // (say by a restart while the closure ran), which is then safe to retry rather than "unknown".
            guard connection.checkAlive() else {
                throw PostgresError(code: .connectionLost, message: "the connection broke before COMMIT", query: "COMMIT")
            }
            let statements = (begin.map { [PostgresQuery(unsafeSQL: $0)] } ?? []) + held + [PostgresQuery(unsafeSQL: "COMMIT")]
            do throws(PostgresError) {
                return try statements.count == 1 ? connection.execute(statements[0]).commandTag : connection.pipeline(statements).last!.commandTag
            } catch  where error.code == .connectionLost {
                // COMMIT went out with the statements before it, so the server may have run it.
                throw PostgresError(
                    code: .commitOutcomeUnknown,
                    message: "the connection broke while COMMIT was in flight; the transaction may or may not have committed (\(error.message))",
                    sqlState: error.sqlState,
                    query: "COMMIT"
                )
            } catch {
                // A held statement failed and the rest, COMMIT included, were skipped: the transaction is
                // open and aborted until rolled back.
                if connection.isOK { _ = try? connection.execute("ROLLBACK") }
                throw error
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
