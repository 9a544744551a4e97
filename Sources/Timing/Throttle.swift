/// Decides whether something done at most every so often is due now: the first time, whenever
/// its cause changes, and otherwise once per interval.
///
/// Mostly for reports: a failure that repeats every few milliseconds (a broker that is away, a round that keeps
/// failing) is worth one log line when it starts and then one a minute, not one per attempt.
/// The cause is what makes a report new: the kind of failure, not its text, which may name the
/// node or the attempt. Periodic chores that need no loop of their own (a gauge read, a cleanup)
/// take one too.
///
/// ```swift
/// var warnings = Throttle(every: .seconds(60))
/// if warnings.allows(cause: "\(error.code)") { logger.warning("…") }
/// ```
public struct Throttle: Sendable {
    /// The shortest time between two reports of the same cause.
    public let interval: Duration
    private var last: (cause: String, at: ContinuousClock.Instant)?

    /// A throttle whose first report is allowed at once, or, given `since`, one interval after it.
    public init(every interval: Duration, since start: ContinuousClock.Instant? = nil) {
        self.interval = interval
        self.last = start.map { ("", $0) }
    }

    /// Whether to report now; when it answers `true`, the report counts as told.
    public mutating func allows(cause: String = "", at now: ContinuousClock.Instant = .now) -> Bool {
        if let last, last.cause == cause, now - last.at < interval { return false }
        last = (cause, now)
        return true
    }

    /// The condition ended: the next report is told at once, whatever its cause.
    public mutating func reset() { last = nil }
}
