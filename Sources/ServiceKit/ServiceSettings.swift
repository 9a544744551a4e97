import Foundation
import Logging

/// What every service reads from its environment, with defaults that work on loopback.
///
/// | variable | default |
/// | --- | --- |
/// | `ORDERLY_AMQP_URL` | `amqp://guest:guest@127.0.0.1:5672/` |
/// | `ORDERLY_DATABASE_URL` | `postgresql://orderly:orderly@127.0.0.1:5432/orderly` |
/// | `ORDERLY_HTTP_HOST` | `127.0.0.1` |
/// | `ORDERLY_HTTP_PORT` | the service's own port (8080 order, 8081 payment, …) |
/// | `ORDERLY_LOG_LEVEL` | `info` |
public struct ServiceSettings: Sendable {
    /// The service's name, used in logs, metrics, the AMQP connection name and the default schema.
    public var name: String
    public var amqpURL: String
    public var databaseURL: String
    public var httpHost: String
    public var httpPort: Int
    public var logLevel: Logger.Level
    /// Every variable, for service-specific settings.
    public var environment: [String: String]

    public init(name: String, defaultPort: Int, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.name = name
        self.environment = environment
        amqpURL = environment["ORDERLY_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/"
        databaseURL = environment["ORDERLY_DATABASE_URL"] ?? "postgresql://orderly:orderly@127.0.0.1:5432/orderly"
        httpHost = environment["ORDERLY_HTTP_HOST"] ?? "127.0.0.1"
        httpPort = environment["ORDERLY_HTTP_PORT"].flatMap(Int.init) ?? defaultPort
        logLevel = environment["ORDERLY_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
    }

    /// A string setting, or `defaultValue` when unset or empty.
    public func string(_ name: String, default defaultValue: String) -> String {
        environment[name].flatMap { $0.isEmpty ? nil : $0 } ?? defaultValue
    }

    /// An integer setting.
    ///
    /// - Throws: ``SettingsError`` when it is set but not a whole number.
    public func int(_ name: String, default defaultValue: Int) throws -> Int {
        guard let text = environment[name], !text.isEmpty else { return defaultValue }
        guard let value = Int(text) else { throw SettingsError("\(name) must be a whole number, not '\(text)'") }
        return value
    }

    /// A duration setting in (possibly fractional) seconds.
    ///
    /// - Throws: ``SettingsError`` when it is set but not a positive number.
    public func seconds(_ name: String, default defaultValue: Duration) throws -> Duration {
        guard let text = environment[name], !text.isEmpty else { return defaultValue }
        guard let value = Double(text), value > 0 else { throw SettingsError("\(name) must be a positive number of seconds, not '\(text)'") }
        return .milliseconds(Int64(value * 1000))
    }
}

/// A setting that cannot be used as it is.
public struct SettingsError: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}
