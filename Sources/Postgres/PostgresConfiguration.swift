import Foundation
import Timing

/// Where and how to connect to PostgreSQL.
///
/// Build one from a URL (`postgresql://user:pass@host:port/db?application_name=…`) or memberwise.
/// The configuration is turned into libpq keyword/value pairs for `PQconnectdbParams`, so no value is ever
/// spliced into a conninfo string and none needs escaping.
///
/// Every connection sets `client_encoding=UTF8`, `TimeZone=UTC` and `DateStyle=ISO`, which the text decoders
/// of ``PostgresDecodable`` rely on.
public struct PostgresConfiguration: Sendable, Hashable {
    /// The server's host name, IP address, or a Unix-socket directory (starting with `/`).
    public var host: String
    /// The server's TCP port.
    public var port: Int
    /// The role to log in as.
    public var username: String
    /// The role's password, if the server asks for one.
    public var password: String?
    /// The database to connect to.
    public var database: String
    /// Shown in `pg_stat_activity.application_name`; useful to find a service's connections.
    public var applicationName: String?
    /// How long opening a connection may take before it fails with ``PostgresError/Code/connectionFailed``.
    ///
    /// libpq counts in whole seconds and treats anything below two seconds as two.
    public var connectTimeout: Duration
    /// The server cancels a statement that runs longer (`statement_timeout`), failing it with SQLSTATE `57014`;
    /// `nil` keeps the server's setting. A guard against a query that would otherwise hold a connection forever.
    public var statementTimeout: Duration?
    /// libpq's `sslmode` (`disable`, `prefer`, `require`, `verify-full`, …); `nil` leaves libpq's default.
    public var sslMode: String?
    /// Further libpq connection keywords (such as `target_session_attrs`), passed through as they are.
    public var additionalParameters: [String: String]

    /// Creates a configuration from its parts.
    public init(
        host: String = "127.0.0.1",
        port: Int = 5432,
        username: String,
        password: String? = nil,
        database: String,
        applicationName: String? = nil,
        connectTimeout: Duration = .seconds(10),
        statementTimeout: Duration? = nil,
        sslMode: String? = nil,
        additionalParameters: [String: String] = [:]
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.applicationName = applicationName
        self.connectTimeout = connectTimeout
        self.statementTimeout = statementTimeout
        self.sslMode = sslMode
        self.additionalParameters = additionalParameters
    }

    /// Parses a `postgresql://` or `postgres://` URL.
    ///
    /// User, password and database are percent-decoded. The query may carry `application_name`, `sslmode`,
    /// `connect_timeout` (seconds), `statement_timeout` (milliseconds), `host` (overrides the authority, e.g. a socket directory) and any other libpq
    /// keyword, which is passed through. The database defaults to the user name, the port to 5432.
    ///
    /// - Throws: ``PostgresError`` with code ``PostgresError/Code/invalidConfiguration`` when the URL is malformed,
    ///   has another scheme, lacks a user, or has a non-numeric port or timeout.
    public init(url: String) throws {
        func invalid(_ reason: String) -> PostgresError {
            PostgresError(code: .invalidConfiguration, message: "invalid PostgreSQL URL: \(reason)")
        }
        guard let components = URLComponents(string: url) else { throw invalid("cannot parse it") }
        guard let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql" else {
            throw invalid("the scheme must be postgresql:// or postgres://")
        }
        guard let user = components.user, !user.isEmpty else { throw invalid("it names no user") }
        var host = components.host ?? ""
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        var database = components.path
        if database.hasPrefix("/") { database.removeFirst() }
        database = database.removingPercentEncoding ?? database

        self.init(
            host: host.isEmpty ? "127.0.0.1" : host,
            port: components.port ?? 5432,
            username: user,
            password: components.password,
            database: database.isEmpty ? user : database
        )
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "application_name":
                applicationName = value
            case "sslmode":
                sslMode = value
            case "host":
                self.host = value
            case "port":
                guard let port = Int(value) else { throw invalid("port \(value) is not a number") }
                self.port = port
            case "statement_timeout":
                guard let milliseconds = Int(value) else { throw invalid("statement_timeout \(value) is not a number") }
                statementTimeout = .milliseconds(milliseconds)
            case "connect_timeout":
                guard let seconds = Int(value) else { throw invalid("connect_timeout \(value) is not a number") }
                connectTimeout = .seconds(seconds)
            default:
                additionalParameters[item.name] = value
            }
        }
    }

    /// Server settings for every session, as libpq's `options` keyword (`-c name=value`, space-separated).
    private var options: String {
        // Statements are prepared once per connection (StatementCache). A generic plan, which the server
        // would settle on after five runs, cannot see how many elements an array parameter holds and plans
        // a batch's unnest($1) join as a scan of the whole table; custom plans keep the index lookups.
        var options = "-c TimeZone=UTC -c DateStyle=ISO -c plan_cache_mode=force_custom_plan"
        if let statementTimeout {
            options += " -c statement_timeout=\(max(1, statementTimeout.milliseconds))"
        }
        return options
    }

    /// The keyword/value pairs handed to `PQconnectdbParams`, in a stable order.
    ///
    /// A pure function of the configuration, so it can be tested without a server.
    var connectionParameters: [(keyword: String, value: String)] {
        var pairs: [(keyword: String, value: String)] = [
            ("host", host),
            ("port", String(port)),
            ("user", username),
            ("dbname", database),
            ("connect_timeout", String(max(2, Int((connectTimeout + .milliseconds(999)).components.seconds)))),
            ("client_encoding", "UTF8"),
            ("options", options),
        ]
        if let password { pairs.append(("password", password)) }
        if let applicationName { pairs.append(("application_name", applicationName)) }
        if let sslMode { pairs.append(("sslmode", sslMode)) }
        for key in additionalParameters.keys.sorted() {
            if let index = pairs.firstIndex(where: { $0.keyword == key }) {
                pairs[index].value = additionalParameters[key]!
            } else {
                pairs.append((key, additionalParameters[key]!))
            }
        }
        return pairs
    }
}

extension PostgresConfiguration: CustomStringConvertible {
    /// The URL form without the password, safe to log.
    public var description: String {
        var text = "postgresql://\(username)@\(host):\(port)/\(database)"
        if let applicationName { text += "?application_name=\(applicationName)" }
        return text
    }
}
