import CLibPQ
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The `PGconn*` and the blocking libpq calls made on it.
///
/// Every method except ``cancelToken`` must run on the connection's ``ConnectionThread``; ``PostgresConnection``
/// guarantees that by calling them only from jobs submitted to that thread. That confinement is why
/// `@unchecked Sendable` is sound: the reference crosses threads, the pointer's use never does. The cancel token is the
/// one exception and carries its own lock, because libpq documents `PQcancel` as safe to call from another thread.
final class LibPQConnection: @unchecked Sendable {
    private var connection: OpaquePointer?
    /// Set when the protocol state is one this client cannot continue from (an unexpected COPY); the connection
    /// then reports itself broken so its owner closes it.
    private var isPoisoned = false
    /// Lets another thread ask the server to cancel the statement running on this connection.
    let cancelToken: CancelToken
    /// Receives libpq's notices (`NOTICE: … already exists, skipping`), kept alive as long as the connection.
    private let noticeSink: NoticeSink
    /// The statements prepared on this connection.
    private var statements = StatementCache()

    private init(connection: OpaquePointer, logger: Logger) {
        self.connection = connection
        self.cancelToken = CancelToken(PQgetCancel(connection))
        self.noticeSink = NoticeSink(logger: logger)
        PQsetNoticeProcessor(
            connection,
            { context, message in
                guard let context, let message else { return }
                Unmanaged<NoticeSink>.fromOpaque(context).takeUnretainedValue().receive(String(cString: message))
            },
            Unmanaged.passUnretained(noticeSink).toOpaque()
        )
    }

    deinit { finish() }

    /// Opens a connection, blocking up to the configured connect timeout.
    static func connect(_ configuration: PostgresConfiguration, logger: Logger) throws(PostgresError) -> LibPQConnection {
        let pairs = configuration.connectionParameters
        let connection = withCStringArray(pairs.map(\.keyword)) { keywords in
            withCStringArray(pairs.map(\.value)) { values in
                PQconnectdbParams(keywords, values, 0)
            }
        }
        guard let connection else {
            throw PostgresError(code: .connectionFailed, message: "libpq could not allocate a connection")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = errorMessage(connection)
            PQfinish(connection)
            throw PostgresError(
                code: .connectionFailed,
                message: "cannot connect to \(configuration): \(message)"
            )
        }
        return LibPQConnection(connection: connection, logger: logger)
    }

    /// Closes the socket and frees libpq's state; later calls see a closed connection.
    func finish() {
        cancelToken.invalidate()
        if let connection {
            PQfinish(connection)
            self.connection = nil
        }
    }

    /// Whether libpq still considers the connection usable (`PQstatus == CONNECTION_OK`).
    var isOK: Bool { !isPoisoned && (connection.map { PQstatus($0) == CONNECTION_OK } ?? false) }

    /// Whether a transaction is open (or aborted) on the connection.
    var isInTransaction: Bool {
        guard let connection else { return false }
        let status = PQtransactionStatus(connection)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE
    }

    /// The server process id serving this connection.
    var backendPID: Int32 { connection.map { PQbackendPID($0) } ?? 0 }

    /// Checks, without waiting, that the server has not closed the connection while it sat idle.
    ///
    /// An idle socket that is readable means the server sent something unasked, typically the FATAL
    /// "terminating connection due to administrator command" followed by end-of-file when it shut down.
    func checkAlive() -> Bool {
        guard let connection, !isPoisoned, PQstatus(connection) == CONNECTION_OK else { return false }
        // PQconsumeInput returns after the first read that yields data, so the FATAL message and the end-of-file
        // behind it take two rounds; PQisBusy parses what was read (an unasked error becomes a notice).
        for _ in 0..<4 {
            switch waitForSocket(connection, events: Int16(POLLIN), timeoutMilliseconds: 0) {
            case .ready:
                guard PQconsumeInput(connection) == 1 else { return false }
                _ = PQisBusy(connection)
            case .timedOut:
                return PQstatus(connection) == CONNECTION_OK
            case .failed:
                return false
            }
        }
        return PQstatus(connection) == CONNECTION_OK
    }

    // MARK: - Statements

    /// Runs one statement (text format, types inferred by the server): prepared when it runs often
    /// (see ``StatementCache``), with `PQexecParams` otherwise.
    func execute(_ query: PostgresQuery) throws(PostgresError) -> QueryResult {
        let connection = try requireOpen(query)
        try Self.validate(query)
        let name = try preparedName(for: query, on: connection)
        let result = Self.withParameters(query.parameters) { count, values in
            if let name {
                PQexecPrepared(connection, name, count, values, nil, nil, 0)
            } else {
                PQexecParams(connection, query.sql, count, nil, values, nil, nil, 0)
            }
        }
        defer { PQclear(result) }
        return try interpret(result, query: query.sql)
    }

    /// The name the statement is prepared under, preparing it now if the cache says so; `nil` to run it unprepared.
    ///
    /// Only outside pipeline mode: preparing is a round trip of its own.
    private func preparedName(for query: PostgresQuery, on connection: OpaquePointer) throws(PostgresError) -> String? {
        switch statements.plan(for: query.sql) {
        case .unprepared:
            return nil
        case .prepared(let name):
            return name
        case .prepare(let name, let evicting):
            if let evicting {
                let result = PQexec(connection, "DEALLOCATE \(evicting)")
                PQclear(result)
            }
            let result = PQprepare(connection, name, query.sql, Int32(query.parameters.count), nil)
            defer { PQclear(result) }
            guard PQresultStatus(result) == PGRES_COMMAND_OK else {
                // Whatever made preparing fail will show when it runs unprepared, with the statement's own error.
                statements.forget(query.sql)
                guard PQstatus(connection) == CONNECTION_OK else { throw failure(result, query: query.sql, fallback: "cannot prepare") }
                return nil
            }
            return name
        }
    }

    /// Runs SQL text with the simple query protocol (`PQexec`): several statements separated by `;`, no parameters.
    func executeScript(_ sql: String) throws(PostgresError) {
        let connection = try requireOpen(PostgresQuery(unsafeSQL: sql))
        let result = PQexec(connection, sql)
        defer { PQclear(result) }
        _ = try interpret(result, query: sql)
    }

    /// Sends all statements in one round trip with libpq's pipeline mode and reads their results in order.
    ///
    /// One `PQpipelineSync` ends the batch, so without an explicit transaction the statements form one implicit
    /// transaction: an error rolls back the statements before it and skips those after it. Statements the
    /// ``StatementCache`` says to prepare are prepared inside the same round trip.
    func pipeline(_ queries: [PostgresQuery]) throws(PostgresError) -> [QueryResult] {
        guard let first = queries.first else { return [] }
        let connection = try requireOpen(first)
        for query in queries { try Self.validate(query) }
        guard PQenterPipelineMode(connection) == 1 else {
            throw failure(nil, query: first.sql, fallback: "cannot enter pipeline mode")
        }
        // Non-blocking while sending, so a large batch cannot deadlock against the server's results
        // filling the socket in the other direction; `flush` reads while it writes.
        PQsetnonblocking(connection, 1)
        // What each result coming back answers: a statement of `queries`, or a preparation (with its SQL).
        var expected: [PipelineStep] = []
        func send(_ sent: Int32, _ sql: String) throws(PostgresError) {
            // After a failed send the protocol state is uncertain, so the connection is marked for discarding.
            guard sent == 1 else {
                let error = failure(nil, query: sql, fallback: "cannot queue the statement")
                isPoisoned = true
                throw error
            }
        }
        for (index, query) in queries.enumerated() {
            var name: String?
            switch statements.plan(for: query.sql) {
            case .unprepared: break
            case .prepared(let prepared): name = prepared
            case .prepare(let prepared, let evicting):
                if let evicting {
                    try send(PQsendQueryParams(connection, "DEALLOCATE \(evicting)", 0, nil, nil, nil, nil, 0), query.sql)
                    expected.append(.deallocation)
                }
                try send(PQsendPrepare(connection, prepared, query.sql, Int32(query.parameters.count), nil), query.sql)
                expected.append(.preparation(sql: query.sql))
                name = prepared
            }
            let sent = Self.withParameters(query.parameters) { count, values in
                if let name {
                    PQsendQueryPrepared(connection, name, count, values, nil, nil, 0)
                } else {
                    PQsendQueryParams(connection, query.sql, count, nil, values, nil, nil, 0)
                }
            }
            try send(sent, query.sql)
            expected.append(.statement(index))
        }
        guard PQpipelineSync(connection) == 1 else {
            let error = failure(nil, query: first.sql, fallback: "cannot send the pipeline")
            isPoisoned = true
            throw error
        }
        do {
            try flush(connection, query: first.sql)
        } catch {
            isPoisoned = true
            throw error
        }
        PQsetnonblocking(connection, 0)

        var results = [QueryResult](repeating: QueryResult(rows: [], affectedRows: 0, commandTag: ""), count: queries.count)
        var firstError: PostgresError?
        for step in expected {
            let sql: String
            switch step {
            case .statement(let index): sql = queries[index].sql
            case .preparation(let prepared): sql = prepared
            case .deallocation: sql = "DEALLOCATE"
            }
            while let result = PQgetResult(connection) {
                defer { PQclear(result) }
                let status = PQresultStatus(result)
                if status == PGRES_PIPELINE_ABORTED {
                    // Skipped after an earlier error: a preparation that never ran must not be taken as done.
                    if case .preparation(let prepared) = step { statements.forget(prepared) }
                    continue
                }
                do {
                    let outcome = try interpret(result, query: sql)
                    if case .statement(let index) = step { results[index] = outcome }
                } catch {
                    if case .preparation(let prepared) = step { statements.forget(prepared) }
                    if firstError == nil { firstError = error }
                }
            }
            guard PQstatus(connection) == CONNECTION_OK else {
                throw firstError ?? failure(nil, query: sql, fallback: "connection lost during the pipeline")
            }
        }
        // The sync point's own result, then leave pipeline mode.
        while PQpipelineStatus(connection) != PQ_PIPELINE_OFF {
            if PQexitPipelineMode(connection) == 1 { break }
            guard let result = PQgetResult(connection) else {
                guard PQstatus(connection) == CONNECTION_OK else {
                    throw firstError ?? failure(nil, query: first.sql, fallback: "connection lost during the pipeline")
                }
                continue
            }
            PQclear(result)
        }
        if let firstError { throw firstError }
        return results
    }

    /// What a result read back from a pipeline answers.
    private enum PipelineStep {
        case statement(Int)
        case preparation(sql: String)
        case deallocation
    }

    // MARK: - Notifications

    /// Waits up to `timeoutMilliseconds` for input, then returns the notifications that arrived.
    ///
    /// - Throws: ``PostgresError/Code/connectionLost`` when the connection broke.
    func awaitNotifications(timeoutMilliseconds: Int32) throws(PostgresError) -> [PostgresNotification] {
        guard let connection, PQstatus(connection) == CONNECTION_OK else {
            throw PostgresError(code: .connectionLost, message: "the connection is closed")
        }
        var notifications = Self.drainNotifications(connection)
        if !notifications.isEmpty { return notifications }
        switch waitForSocket(connection, events: Int16(POLLIN), timeoutMilliseconds: timeoutMilliseconds) {
        case .timedOut:
            return []
        case .failed:
            throw failure(nil, query: nil, fallback: "cannot wait for notifications")
        case .ready:
            guard PQconsumeInput(connection) == 1 else {
                throw failure(nil, query: nil, fallback: "connection lost while waiting for notifications")
            }
        }
        notifications = Self.drainNotifications(connection)
        return notifications
    }

    private static func drainNotifications(_ connection: OpaquePointer) -> [PostgresNotification] {
        var notifications: [PostgresNotification] = []
        while let notify = PQnotifies(connection) {
            notifications.append(
                PostgresNotification(
                    channel: String(cString: notify.pointee.relname),
                    payload: String(cString: notify.pointee.extra),
                    backendPID: notify.pointee.be_pid
                )
            )
            PQfreemem(notify)
        }
        return notifications
    }

    // MARK: - Results and errors

    /// What one statement returned.
    struct QueryResult: Sendable {
        var rows: [PostgresRow]
        var affectedRows: Int
        /// The command tag without its counts, such as `INSERT`, `COMMIT` or `ROLLBACK`.
        var commandTag: String
    }

    private func interpret(_ result: OpaquePointer?, query: String) throws(PostgresError) -> QueryResult {
        guard let result else { throw failure(nil, query: query, fallback: "no result from libpq") }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_SINGLE_TUPLE:
            return QueryResult(rows: Self.rows(of: result), affectedRows: Self.affectedRows(of: result), commandTag: Self.commandTag(of: result))
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return QueryResult(rows: [], affectedRows: Self.affectedRows(of: result), commandTag: Self.commandTag(of: result))
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            // The connection now expects COPY data this client cannot exchange; mark it so it is discarded.
            isPoisoned = true
            throw PostgresError(code: .client, message: "COPY is not supported by this client", query: query)
        default:
            throw failure(result, query: query, fallback: "the statement failed")
        }
    }

    /// Builds the error for a failed result (or a missing one), deciding whether the connection was lost.
    private func failure(_ result: OpaquePointer?, query: String?, fallback: String) -> PostgresError {
        func field(_ code: UInt8) -> String? {
            guard let result, let value = PQresultErrorField(result, Int32(code)) else { return nil }
            return String(cString: value)
        }
        let sqlState = field(UInt8(ascii: "C"))
        var message = field(UInt8(ascii: "M"))
        if message == nil {
            let text = result.flatMap { PQresultErrorMessage($0) }.map { String(cString: $0) } ?? ""
            message = text.isEmpty ? connection.map(Self.errorMessage) : text
        }
        let lost = !(connection.map { PQstatus($0) == CONNECTION_OK } ?? false)
        let code: PostgresError.Code = lost ? .connectionLost : (sqlState == nil ? .client : .server)
        var text = message?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if text.isEmpty { text = fallback }
        return PostgresError(
            code: code,
            message: text,
            sqlState: sqlState,
            detail: field(UInt8(ascii: "D")),
            hint: field(UInt8(ascii: "H")),
            constraint: field(UInt8(ascii: "n")),
            query: query
        )
    }

    private static func rows(of result: OpaquePointer) -> [PostgresRow] {
        let columnCount = PQnfields(result)
        let rowCount = PQntuples(result)
        let columns = PostgresColumns(
            names: (0..<columnCount).map { PQfname(result, $0).map { String(cString: $0) } ?? "?column?" }
        )
        var rows: [PostgresRow] = []
        rows.reserveCapacity(Int(rowCount))
        for row in 0..<rowCount {
            var values: [String?] = []
            values.reserveCapacity(Int(columnCount))
            for column in 0..<columnCount {
                if PQgetisnull(result, row, column) == 1 {
                    values.append(nil)
                } else {
                    let length = Int(PQgetlength(result, row, column))
                    let bytes = UnsafeRawBufferPointer(start: PQgetvalue(result, row, column), count: length)
                    values.append(String(decoding: bytes, as: UTF8.self))
                }
            }
            rows.append(PostgresRow(columns: columns, values: values))
        }
        return rows
    }

    private static func affectedRows(of result: OpaquePointer) -> Int {
        PQcmdTuples(result).flatMap { Int(String(cString: $0)) } ?? 0
    }

    private static func commandTag(of result: OpaquePointer) -> String {
        let status = PQcmdStatus(result).map { String(cString: $0) } ?? ""
        return String(status.prefix { $0 != " " })
    }

    private static func errorMessage(_ connection: OpaquePointer) -> String {
        PQerrorMessage(connection).map { String(cString: $0) }?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }

    // MARK: - Plumbing

    private func requireOpen(_ query: PostgresQuery) throws(PostgresError) -> OpaquePointer {
        guard let connection else {
            throw PostgresError(code: .connectionClosed, message: "the connection is closed", query: query.sql)
        }
        guard !isPoisoned else {
            throw PostgresError(
                code: .connectionLost,
                message: "the connection was left in a state this client cannot continue from",
                query: query.sql
            )
        }
        return connection
    }

    /// PostgreSQL text cannot hold NUL, and C strings would silently cut at one; refuse instead.
    private static func validate(_ query: PostgresQuery) throws(PostgresError) {
        for (index, parameter) in query.parameters.enumerated() where parameter?.utf8.contains(0) == true {
            throw PostgresError(
                code: .client,
                message: "parameter $\(index + 1) contains a NUL character, which PostgreSQL text cannot hold",
                query: query.sql
            )
        }
        if query.parameters.count > 65535 {
            throw PostgresError(code: .client, message: "more than 65535 parameters", query: query.sql)
        }
    }

    /// Writes libpq's output buffer, reading input meanwhile so the server never blocks on a full socket.
    private func flush(_ connection: OpaquePointer, query: String) throws(PostgresError) {
        while true {
            let state = PQflush(connection)
            if state == 0 { return }
            if state < 0 { throw failure(nil, query: query, fallback: "cannot send to the server") }
            switch waitForSocket(connection, events: Int16(POLLIN | POLLOUT), timeoutMilliseconds: -1) {
            case .ready, .timedOut:
                guard PQconsumeInput(connection) == 1 else {
                    throw failure(nil, query: query, fallback: "connection lost while sending")
                }
            case .failed:
                throw failure(nil, query: query, fallback: "cannot wait for the socket")
            }
        }
    }

    private enum SocketWait { case ready, timedOut, failed }

    private func waitForSocket(_ connection: OpaquePointer, events: Int16, timeoutMilliseconds: Int32) -> SocketWait {
        let socket = PQsocket(connection)
        guard socket >= 0 else { return .failed }
        var descriptor = pollfd(fd: socket, events: events, revents: 0)
        while true {
            let ready = poll(&descriptor, 1, timeoutMilliseconds)
            if ready > 0 { return .ready }
            if ready == 0 { return .timedOut }
            if errno != EINTR { return .failed }
        }
    }

    /// Runs `body` with the parameters as a C array of C strings (`nil` for NULL), valid only during the call.
    private static func withParameters<R>(
        _ parameters: [String?],
        _ body: (Int32, UnsafePointer<UnsafePointer<CChar>?>?) -> R
    ) -> R {
        let copies: [UnsafeMutablePointer<CChar>?] = parameters.map { $0.flatMap { strdup($0) } }
        defer {
            for copy in copies { free(copy) }
        }
        let pointers = copies.map { $0.map { UnsafePointer($0) } }
        return pointers.withUnsafeBufferPointer { body(Int32(parameters.count), $0.baseAddress) }
    }

    /// Runs `body` with a NULL-terminated C array of C strings, as `PQconnectdbParams` wants.
    private static func withCStringArray<R>(
        _ strings: [String],
        _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R
    ) -> R {
        let copies = strings.map { strdup($0) }
        defer {
            for copy in copies { free(copy) }
        }
        let pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } } + [nil]
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}

extension LibPQConnection {
    /// libpq's `PGcancel`, usable from any thread, guarded so it is never used after it is freed.
    final class CancelToken: Sendable {
        private let state: Mutex<CancelPointer?>

        /// Wraps the pointer so the mutex's value is `Sendable`; it is only dereferenced under the lock.
        private struct CancelPointer: @unchecked Sendable { let pointer: OpaquePointer }

        init(_ pointer: OpaquePointer?) {
            state = Mutex(pointer.map(CancelPointer.init))
        }

        /// Asks the server to cancel whatever the connection is running. Blocks for a round trip to the server,
        /// so call it off the cooperative pool.
        func cancel() {
            state.withLock { token in
                guard let token else { return }
                var buffer = [CChar](repeating: 0, count: 256)
                _ = PQcancel(token.pointer, &buffer, Int32(buffer.count))
            }
        }

        /// Frees the `PGcancel`; later cancels do nothing.
        func invalidate() {
            state.withLock { token in
                if let token { PQfreeCancel(token.pointer) }
                token = nil
            }
        }
    }

    /// Forwards libpq notices to the logger instead of stderr.
    final class NoticeSink: Sendable {
        let logger: Logger
        init(logger: Logger) { self.logger = logger }

        func receive(_ message: String) {
            logger.debug("postgres notice", metadata: ["postgres.notice": "\(message.trimmingCharacters(in: .newlines))"])
        }
    }
}
