import Timing

/// When a supervisor starts its child again, and when it stops trying: the rules of
/// `infra/dev`'s supervisors, as compose's `restart: unless-stopped` with a limit.
///
/// A child that exits unasked is started again after a delay that doubles from ``firstDelay``
/// up to ``maxDelay``, and falls back to ``firstDelay`` once a child has run for ``reset``. When
/// one more restart would make more than ``limit`` within ``window``, the supervisor gives up: a
/// service that cannot stay up should be looked at, not hammered forever. It gives up at once
/// when the child exits 78 (`EX_CONFIG`): it found its configuration wrong, and no restart changes that.
package struct RestartPolicy: Sendable, Hashable {
    package var limit = 5
    package var window = Duration.seconds(120)
    package var firstDelay = Duration.seconds(1)
    package var maxDelay = Duration.seconds(30)
    package var reset = Duration.seconds(60)
    /// How long a child asked to stop (`SIGTERM`) may take to drain before it is killed.
    package var stopTimeout = Duration.seconds(20)

    /// The exit status with which a service says its configuration is wrong.
    package static let misconfigured: Int32 = 78

    package init() {}

    /// The policy the variables `ORDERLY_RESTART_LIMIT`, `ORDERLY_RESTART_WINDOW`, `ORDERLY_RESTART_DELAY`,
    /// `ORDERLY_RESTART_MAX_DELAY`, `ORDERLY_RESTART_RESET` and `ORDERLY_STOP_TIMEOUT` set, the defaults
    /// for those not set.
    ///
    /// - Throws: ``SettingError`` naming the first variable whose value is not a whole number (the
    ///   limit) or a number of seconds (the others).
    package init(environment: [String: String]) throws(SettingError) {
        if let text = environment["ORDERLY_RESTART_LIMIT"] {
            guard let value = Int(text), value >= 0 else {
                throw SettingError("ORDERLY_RESTART_LIMIT must be a whole number, not '\(text)'")
            }
            limit = value
        }
        func seconds(_ name: String, _ value: inout Duration) throws(SettingError) {
            guard let text = environment[name] else { return }
            guard let parsed = Duration(secondsText: text) else { throw SettingError("\(name) must be a number of seconds, not '\(text)'") }
            value = parsed
        }
        try seconds("ORDERLY_RESTART_WINDOW", &window)
        try seconds("ORDERLY_RESTART_DELAY", &firstDelay)
        try seconds("ORDERLY_RESTART_MAX_DELAY", &maxDelay)
        try seconds("ORDERLY_RESTART_RESET", &reset)
        try seconds("ORDERLY_STOP_TIMEOUT", &stopTimeout)
    }
}

/// A setting a supervisor cannot work with.
package struct SettingError: Error, CustomStringConvertible, Equatable {
    package var description: String
    package init(_ description: String) { self.description = description }
}

/// What one supervisor has seen of its child's exits, and what it does about the next one.
///
/// Times are offsets on one clock the caller keeps (a supervisor's ``ContinuousClock`` since it
/// started), so that every rule can be tried without waiting.
package struct RestartHistory: Sendable {
    package let policy: RestartPolicy
    /// Restarts so far, over the supervisor's whole life.
    package private(set) var restarts = 0
    /// When each exit counted against the limit happened: those within the window of the last one.
    private var recentExits: [Duration] = []
    private var delay: Duration

    package init(policy: RestartPolicy) {
        self.policy = policy
        delay = policy.firstDelay
    }

    /// What to do about a child that exited unasked.
    package enum Decision: Sendable, Hashable {
        /// Start it again once `after` has passed (then call ``restarted()``).
        case restart(after: Duration)
        /// One more restart would pass the limit.
        case giveUpAfterTooManyRestarts
        /// It said its configuration is wrong.
        case giveUpMisconfigured
    }

    /// The restarts counted against the limit: exits within the window, but the first of them.
    package var recentRestarts: Int { max(recentExits.count - 1, 0) }

    /// How long the exits counted against the limit took, first to last.
    package var recentSpan: Duration { (recentExits.last ?? .zero) - (recentExits.first ?? .zero) }

    /// Records that the child exited with `status` at `now`, having run for `ranFor`, and decides.
    package mutating func childExited(status: ExitStatus, ranFor: Duration, at now: Duration) -> Decision {
        // A child that stayed up a good while was healthy: its exit starts the backoff afresh.
        if ranFor >= policy.reset { delay = policy.firstDelay }
        recentExits = recentExits.filter { now - $0 < policy.window } + [now]
        if recentExits.count > policy.limit { return .giveUpAfterTooManyRestarts }
        if status == .exited(RestartPolicy.misconfigured) { return .giveUpMisconfigured }
        return .restart(after: delay)
    }

    /// Records that the child was started again after the delay ``childExited(status:ranFor:at:)`` gave.
    package mutating func restarted() {
        restarts += 1
        delay = min(delay * 2, policy.maxDelay)
    }
}

extension Duration {
    /// A number of seconds as written in a setting (`1`, `0.25`), to the millisecond; nil when it is not one.
    package init?(secondsText text: String) {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.allSatisfy(\.isASCIIDigit), let seconds = Int64(whole) else { return nil }
        let fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.allSatisfy(\.isASCIIDigit) else { return nil }
        let milliseconds = Int64(String((fraction + "000").prefix(3)))!
        self = .seconds(seconds) + .milliseconds(milliseconds)
    }

    /// This duration to the millisecond as a setting writes it: `2s`, `0.25s`.
    package var secondsText: String {
        var fraction = String(milliseconds % 1000)
        fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(milliseconds / 1000)" + (fraction.isEmpty ? "" : ".\(fraction)") + "s"
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
