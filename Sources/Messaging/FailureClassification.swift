import AMQP
import MessagingConventions
import Postgres

/// An error that knows which kind of failure it is. Handlers throw these to steer retries:
/// a card decline is permanent, a gateway timeout transient.
public protocol ClassifiedError: Error {
    var failureKind: FailureKind { get }
}

/// A failure that can never succeed, with a reason for the parking queue.
public struct PermanentFailure: ClassifiedError, CustomStringConvertible {
    public var reason: String
    public var failureKind: FailureKind { .permanent }
    public var description: String { reason }

    public init(_ reason: String) { self.reason = reason }
}

/// A failure that may pass, with a reason recorded on each retry.
public struct TransientFailure: ClassifiedError, CustomStringConvertible {
    public var reason: String
    public var failureKind: FailureKind { .transient }
    public var description: String { reason }

    public init(_ reason: String) { self.reason = reason }
}

extension EnvelopeError: ClassifiedError {
    public var failureKind: FailureKind { .permanent }
}

extension FailureKind {
    /// Sorts an error into transient or permanent.
    ///
    /// Lost connections, serialization failures, deadlocks, timeouts and broker trouble are
    /// transient; malformed input and constraint violations are permanent. An error nobody
    /// classified counts as transient: retrying is bounded by the tiers, and then it is parked.
    public static func of(_ error: any Error) -> FailureKind {
        switch error {
        case let classified as any ClassifiedError: classified.failureKind
        case let postgres as PostgresError: postgres.isTransient ? .transient : .permanent
        case let amqp as AMQPError: amqp.isTransient ? .transient : .permanent
        case is DecodingError: .permanent
        default: .transient
        }
    }
}
