import AMQP
import ArgumentParser
import Foundation
import Ingress
import OperatorKit
import Postgres

/// The exit statuses of `orderly`, from sysexits(3) where one fits.
enum ExitStatus: Int32 {
    /// Done; for a check, nothing differs.
    case ok = 0
    /// It did not work, or a check found a difference: an event refused, a message not found, the topology not as declared.
    case failure = 1
    /// The command line is wrong: an unknown option or service, a missing `--yes` (EX_USAGE).
    case usage = 64
    /// A file given to read is not there or cannot be read (EX_NOINPUT).
    case noInput = 66
    /// Something it needs cannot be reached: the broker, the database, a service, rabbitmqctl (EX_UNAVAILABLE).
    case unavailable = 69
    /// A login or an operation was refused: wrong password, unknown virtual host, missing permission or key (EX_NOPERM).
    case refused = 77

    /// The table of `orderly --help` and README.
    static let table = """
        Exit status: 0 done (a check found nothing different); 1 failed, or a check found a difference \
        (an event refused, a message not found, the topology not as declared); 64 usage (a wrong option or \
        service, a missing --yes); 66 an input file missing or unreadable; 69 the broker, the database, a \
        service or rabbitmqctl unreachable; 77 a login or permission refused.
        """
}

/// What stops a command, as one line for standard error and an exit status: never a backtrace.
struct Failure: Error, CustomStringConvertible {
    var status: ExitStatus
    var message: String

    init(_ status: ExitStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    var description: String { message }

    /// Any error, classified by what the operator can do about it.
    init(_ error: any Error) {
        switch error {
        case let failure as Failure:
            self = failure
        case let error as AMQPError:
            self = Self.broker(error)
        case let error as PostgresError:
            self = Self.database(error)
        case let error as CocoaError where [.fileReadNoSuchFile, .fileNoSuchFile, .fileReadNoPermission].contains(error.code):
            self.init(.noInput, "cannot read \(error.filePath ?? "the file"): \(error.localizedDescription)")
        case let error as UnknownService:
            self.init(.usage, error.description)
        case let error as IngressRefusal:
            self.init(.failure, error.description)
        default:
            self.init(.failure, "\(error)")
        }
    }

    private static func broker(_ error: AMQPError) -> Failure {
        if error.isRefusal {
            return Failure(.refused, "the broker refused: \(error.message) (check ORDERLY_AMQP_URL or .data/secrets/operator.env)")
        }
        switch error.code {
        case .connectionFailed, .connectionLost, .timeout, .blocked:
            return Failure(.unavailable, "cannot reach the broker: \(error.message)")
        case .invalidConfiguration:
            return Failure(.usage, "the broker URL is not valid: \(error.message)")
        default:
            return Failure(.failure, "the broker answered: \(error.message)")
        }
    }

    private static func database(_ error: PostgresError) -> Failure {
        // 28xxx: invalid authorization; 42501: insufficient privilege; 3D000: no such database.
        if let state = error.sqlState, state.hasPrefix("28") || state == "42501" || state == "3D000" {
            return Failure(.refused, "the database refused: \(error.message) (check ORDERLY_DATABASE_URL or .data/secrets/operator.env)")
        }
        switch error.code {
        case .connectionFailed, .connectionLost, .timeout:
            return Failure(.unavailable, "cannot reach the database: \(error.message)")
        case .invalidConfiguration:
            return Failure(.usage, "the database URL is not valid: \(error.message)")
        default:
            return Failure(.failure, "the database answered: \(error.message)")
        }
    }
}
