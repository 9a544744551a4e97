import Timing

/// What to do with a message whose handling failed: retry after a delay, or park it.
///
/// A pure function of the attempt number and the failure kind, so it is tested without a broker.
public struct RetryPolicy: Sendable, Hashable {
    /// The delays of the retry tiers, shortest first. A message is tried once, then once per tier.
    public var tiers: [Duration]

    public init(tiers: [Duration] = [.seconds(1), .seconds(5), .seconds(30), .seconds(120), .seconds(600)]) {
        precondition(tiers.allSatisfy { $0 > .zero }, "retry delays must be positive")
        self.tiers = tiers
    }

    /// The decision for a message.
    public enum Decision: Sendable, Hashable {
        /// Send it to the retry queue of tier `tier` (an index into `tiers`).
        case retry(tier: Int)
        /// Put it in the parking queue with this reason.
        case park(reason: String)
    }

    /// - Parameters:
    ///   - attempt: which attempt just failed, counting from 1.
    ///   - kind: the kind of failure.
    ///   - reason: what went wrong, for the parking queue.
    public func decide(attempt: Int, kind: FailureKind, reason: String) -> Decision {
        switch kind {
        case .permanent:
            return .park(reason: reason)
        case .transient where attempt > tiers.count:
            return .park(reason: "gave up after \(attempt) attempts: \(reason)")
        case .transient:
            return .retry(tier: max(attempt - 1, 0))
        }
    }
}

extension Duration {
    /// A short label for queue names: `500ms`, `5s`, `2m`, `1h`.
    public var label: String {
        switch milliseconds {
        case let ms where ms % 3_600_000 == 0: return "\(ms / 3_600_000)h"
        case let ms where ms % 60_000 == 0: return "\(ms / 60_000)m"
        case let ms where ms % 1000 == 0: return "\(ms / 1000)s"
        default: return "\(milliseconds)ms"
        }
    }

}

/// Whether a failed message may succeed later (retry through the tiers) or never will (park it at once).
public enum FailureKind: String, Sendable, Hashable {
    case transient
    case permanent
}
