/// An error from the PostgreSQL client: the server's answer, a lost connection, a value that would not decode, a timeout.
///
/// The ``code`` says which part failed; for server errors ``sqlState`` carries PostgreSQL's five-character
/// SQLSTATE (for example `23505` unique_violation) along with the server's ``detail``, ``hint`` and ``constraint``.
/// ``isTransient`` says whether running the same work again may succeed, which is what retry loops should ask.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is.
    ///
    /// A struct rather than an enum so new kinds can be added without breaking `switch` statements;
    /// compare with `==` against the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String

        private init(_ name: String) { self.name = name }

        /// Opening a connection failed: the server is unreachable, refused the login, or is starting up.
        public static let connectionFailed = Code("connectionFailed")
        /// An open connection broke while a statement was sent or its result was awaited.
        public static let connectionLost = Code("connectionLost")
        /// The connection was already closed by this client when the work was submitted.
        public static let connectionClosed = Code("connectionClosed")
        /// The server answered with an error; see ``PostgresError/sqlState``.
        public static let server = Code("server")
        /// libpq rejected the request before the server saw it (for example, too many parameters).
        public static let client = Code("client")
        /// A result value could not be decoded into the requested Swift type.
        public static let decoding = Code("decoding")
        /// A bounded wait ran out, such as waiting for a pooled connection.
        public static let timeout = Code("timeout")
        /// The pool was closed before or while the work was waiting for a connection.
        public static let poolClosed = Code("poolClosed")
        /// The task was cancelled before its job started or while it waited for a connection (a statement
        /// cancelled while it runs fails with `.server`, SQLSTATE 57014).
        public static let cancelled = Code("cancelled")
        /// The connection died while `COMMIT` was in flight, so whether the transaction committed is unknown.
        public static let commitOutcomeUnknown = Code("commitOutcomeUnknown")
        /// A configuration value is invalid: a malformed URL, duplicate migration versions.
        public static let invalidConfiguration = Code("invalidConfiguration")

        /// The code's name, such as `connectionLost`.
        public var description: String { name }
    }

    /// What kind of failure this is.
    public var code: Code
    /// A human-readable message: the server's primary message, or what the client observed.
    public var message: String
    /// The SQLSTATE the server reported (`PG_DIAG_SQLSTATE`), such as `40001`; `nil` when the server did not answer.
    public var sqlState: String?
    /// The server's secondary message, if any.
    public var detail: String?
    /// The server's suggestion of what to do, if any.
    public var hint: String?
    /// The name of the violated constraint, for integrity-constraint errors.
    public var constraint: String?
    /// The SQL text of the statement that failed, if the error came from one.
    public var query: String?

    /// Creates an error; the client builds these, but callers may too (for example in tests of retry logic).
    public init(
        code: Code,
        message: String,
        sqlState: String? = nil,
        detail: String? = nil,
        hint: String? = nil,
        constraint: String? = nil,
        query: String? = nil
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
        self.constraint = constraint
        self.query = query
    }

    /// Whether running the same work again, perhaps after a pause, may succeed.
    ///
    /// True for serialization failures (`40001`), deadlocks (`40P01`), connection exceptions (class `08`),
    /// administrator shutdown, crash and "cannot connect now" (`57P01`, `57P02`, `57P03`), too many connections
    /// (`53300`), lost or failed connections, and timeouts. ``Code/commitOutcomeUnknown`` is transient too: retrying
    /// is what a consumer wants, but only safe if the work is idempotent (guarded by an inbox or a unique key), since
    /// the first attempt may have committed.
    public var isTransient: Bool { Self.isTransient(code: code, sqlState: sqlState) }

    /// The classification behind ``isTransient``, as a pure function of the code and SQLSTATE.
    static func isTransient(code: Code, sqlState: String?) -> Bool {
        switch code {
        case .connectionFailed, .connectionLost, .timeout, .commitOutcomeUnknown:
            return true
        default:
            break
        }
        guard let sqlState else { return false }
        if sqlState.hasPrefix("08") { return true }
        return ["40001", "40P01", "57P01", "57P02", "57P03", "53300"].contains(sqlState)
    }

    /// Whether this is a serialization failure or a deadlock: the transaction was rolled back by the server
    /// and running it again is the documented remedy.
    public var isSerializationFailure: Bool { sqlState == "40001" || sqlState == "40P01" }

    /// One line with the code, SQLSTATE, message, detail, hint, constraint and the statement.
    public var description: String {
        var text = "PostgresError.\(code)"
        if let sqlState { text += " [\(sqlState)]" }
        text += ": \(message)"
        if let detail { text += " — detail: \(detail)" }
        if let hint { text += " — hint: \(hint)" }
        if let constraint { text += " — constraint: \(constraint)" }
        if let query { text += " — query: \(query)" }
        return text
    }
}
