import Contracts
import Foundation

/// The entry point of every service executable: runs the service, and turns whatever stops it
/// into one line on standard error and an exit status, never a crash.
///
/// | exit status | meaning |
/// | --- | --- |
/// | 0 | stopped by SIGTERM or SIGINT, after a graceful shutdown |
/// | 78 | misconfigured: a setting, a refused login, a missing permission (EX_CONFIG) |
/// | 69 | the broker or the database could not be reached in time, or the HTTP port is taken (EX_UNAVAILABLE) |
/// | 1 | anything else |
package enum ServiceMain {
    /// Runs `body` with the settings of `service` from the environment, and exits.
    package static func run(_ service: ServiceDescriptor, _ body: @Sendable (ServiceSettings) async throws -> Void) async -> Never {
        let settings = ServiceSettings(service: service)
        do {
            try await body(settings)
            exit(0)
        } catch {
            let failure = StartupError(error)
            FileHandle.standardError.write(Data("\(service.name): error: \(failure.message)\n".utf8))
            exit(failure.kind.exitStatus)
        }
    }
}

/// Why a service could not start (or stopped), in one line that says what to fix.
package struct StartupError: Error, CustomStringConvertible, Sendable {
    /// What kind of trouble, which decides the exit status.
    package enum Kind: Sendable {
        /// Fix a setting or the broker's or database's users and grants.
        case configuration
        /// Something the service needs is not there (yet).
        case unavailable
        case other

        var exitStatus: Int32 {
            switch self {
            case .configuration: 78
            case .unavailable: 69
            case .other: 1
            }
        }
    }

    package var kind: Kind
    package var message: String

    package init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// Any error, as a startup error: one made by ``ServiceRuntime`` keeps its words; others are described as well as can be.
    init(_ error: any Error) {
        switch error {
        case let startup as StartupError: self = startup
        case let settings as SettingsError: self.init(.configuration, settings.description)
        case let address as AddressInUse: self.init(.unavailable, address.description)
        default: self.init(.other, "\(error)")
        }
    }

    package var description: String { message }
}

/// The HTTP port is taken by another process.
struct AddressInUse: Error, CustomStringConvertible {
    var host: String
    var port: Int
    var description: String {
        "cannot listen on \(host):\(port): the address is in use by another process; stop it or set ORDERLY_HTTP_PORT"
    }
}
