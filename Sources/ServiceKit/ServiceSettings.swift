import AMQP
import Contracts
import Foundation
import Logging
import Messaging

/// What every service reads from its environment, with defaults that work on loopback.
///
/// | variable | default |
/// | --- | --- |
/// | `ORDERLY_AMQP_URL` | `amqp://guest:guest@127.0.0.1:5672/`; a cluster's nodes as `amqp://user:password@host1:5672,host2:5673/` |
/// | `ORDERLY_DATABASE_URL` | `postgresql://<role>:<role>@127.0.0.1:5432/orderly`, with the service's own role (`orders`, …) |
/// | `ORDERLY_HTTP_HOST` | `127.0.0.1` |
/// | `ORDERLY_HTTP_PORT` | the service's own port (8080 order, 8081 payment, …) |
/// | `ORDERLY_LOG_LEVEL` | `info` |
/// | `ORDERLY_LOG_FORMAT` | `json`: one JSON object per line; `text` for lines a person reads |
/// | `ORDERLY_STARTUP_TIMEOUT_SECONDS` | `30`: how long to wait for the broker and the database at start |
/// | `ORDERLY_INBOX_RETENTION_SECONDS` | `86400`: how long processed message ids are kept to absorb duplicates |
/// | `ORDERLY_BATCH_LINGER_MS` | `4`: how long a consumer's batch may wait for more while messages pour in |
package struct ServiceSettings: Sendable {
    /// The service's name, used in logs, metrics, the AMQP connection name and the default schema.
    package var name: String
    package var amqpURL: String
    package var databaseURL: String
    package var httpHost: String
    package var httpPort: Int
    package var logLevel: Logger.Level
    package var logFormat: LogFormat
    /// Every variable, for service-specific settings.
    package var environment: [String: String]

    /// The settings of `service` from `environment`; unset variables take the catalog's defaults.
    package init(service: ServiceDescriptor, environment: [String: String] = ProcessInfo.processInfo.environment) {
        let role = service.databaseRole
        self.init(
            name: service.name, defaultPort: service.httpPort,
            defaultDatabaseURL: "postgresql://\(role):\(role)@127.0.0.1:5432/\(SystemCatalog.database)", environment: environment)
    }

    package init(
        name: String, defaultPort: Int, defaultDatabaseURL: String = "postgresql://orderly:orderly@127.0.0.1:5432/orderly",
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.name = name
        self.environment = environment
        // A list of hosts becomes one host and a failover list: the admin routes take the URL apart.
        amqpURL = AMQPConfiguration.singleHostURL(environment["ORDERLY_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/")
        databaseURL = environment["ORDERLY_DATABASE_URL"] ?? defaultDatabaseURL
        httpHost = environment["ORDERLY_HTTP_HOST"] ?? "127.0.0.1"
        httpPort = environment["ORDERLY_HTTP_PORT"].flatMap(Int.init).flatMap { (0...65535).contains($0) ? $0 : nil } ?? defaultPort
        logLevel = environment["ORDERLY_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        logFormat = environment["ORDERLY_LOG_FORMAT"].flatMap(LogFormat.init(rawValue:)) ?? .json
    }

    /// Checks the settings every service reads, so that a typo is an error rather than a default.
    ///
    /// - Throws: ``SettingsError`` naming the variable and what it must be.
    package func validate() throws {
        if let text = environment["ORDERLY_HTTP_PORT"], !text.isEmpty, Int(text).map({ (0...65535).contains($0) }) != true {
            throw SettingsError("ORDERLY_HTTP_PORT must be a port number from 0 to 65535, not '\(text)'")
        }
        if let text = environment["ORDERLY_LOG_LEVEL"], !text.isEmpty, Logger.Level(rawValue: text) == nil {
            let levels = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
            throw SettingsError("ORDERLY_LOG_LEVEL must be one of \(levels), not '\(text)'")
        }
        if let text = environment["ORDERLY_LOG_FORMAT"], !text.isEmpty, LogFormat(rawValue: text) == nil {
            let formats = LogFormat.allCases.map(\.rawValue).joined(separator: ", ")
            throw SettingsError("ORDERLY_LOG_FORMAT must be one of \(formats), not '\(text)'")
        }
        _ = try startupTimeout
        _ = try inboxRetention
        _ = try batchLinger
    }

    /// How long to wait at start for the broker and the database (`ORDERLY_STARTUP_TIMEOUT_SECONDS`, default 30).
    package var startupTimeout: Duration {
        get throws { try seconds("ORDERLY_STARTUP_TIMEOUT_SECONDS", default: .seconds(30)) }
    }

    /// How long a processed message's id is kept to absorb its duplicates (`ORDERLY_INBOX_RETENTION_SECONDS`,
    /// default 86400: a day). See `InboxPruner` in Messaging for why a day covers every redelivery.
    package var inboxRetention: Duration {
        get throws { try seconds("ORDERLY_INBOX_RETENTION_SECONDS", default: .seconds(86_400)) }
    }

    /// The longest a consumer's batch waits for more messages while they pour in (`ORDERLY_BATCH_LINGER_MS`,
    /// default 4; 0 never waits). See `BatchRhythm` in Messaging.
    package var batchLinger: Duration {
        get throws {
            let name = "ORDERLY_BATCH_LINGER_MS"
            guard let text = environment[name], !text.isEmpty else { return BatchRhythm.defaultLinger }
            guard let milliseconds = Int(text), (0...1000).contains(milliseconds) else {
                throw SettingsError("\(name) must be a whole number of milliseconds from 0 to 1000, not '\(text)'")
            }
            return .milliseconds(milliseconds)
        }
    }

    /// A string setting, or `defaultValue` when unset or empty.
    package func string(_ name: String, default defaultValue: String) -> String {
        environment[name].flatMap { $0.isEmpty ? nil : $0 } ?? defaultValue
    }

    /// An integer setting.
    ///
    /// - Throws: ``SettingsError`` when it is set but not a whole number.
    package func int(_ name: String, default defaultValue: Int) throws -> Int {
        guard let text = environment[name], !text.isEmpty else { return defaultValue }
        guard let value = Int(text) else { throw SettingsError("\(name) must be a whole number, not '\(text)'") }
        return value
    }

    /// A duration setting in (possibly fractional) seconds.
    ///
    /// - Throws: ``SettingsError`` when it is set but not a positive number.
    package func seconds(_ name: String, default defaultValue: Duration) throws -> Duration {
        guard let text = environment[name], !text.isEmpty else { return defaultValue }
        // At most a year: anything longer is a typo, and would not fit a Duration's milliseconds anyway.
        guard let value = Double(text), value > 0, value <= 31_536_000 else {
            throw SettingsError("\(name) must be a positive number of seconds, at most a year, not '\(text)'")
        }
        return .milliseconds(Int64(value * 1000))
    }
}

/// A setting that cannot be used as it is.
package struct SettingsError: Error, CustomStringConvertible {
    package var description: String

    package init(_ description: String) { self.description = description }
}
