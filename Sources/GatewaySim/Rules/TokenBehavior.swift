/// What the simulator does with a card token: the failure modes a payment service must survive.
///
/// A pure value: the routes look the token up here and act on the answer.
package enum TokenBehavior: String, Sendable, Hashable, CaseIterable {
    /// `tok_ok`: the charge succeeds.
    case approve = "tok_ok"
    /// `tok_decline`: the card is declined (`402`, `card_declined`); the decline is recorded.
    case decline = "tok_decline"
    /// `tok_flaky`: `503` on the first ``flakyFailures`` attempts of an idempotency key, then success.
    case flaky = "tok_flaky"
    /// `tok_slow`: answers like `tok_ok`, but only after the configured delay.
    case slow = "tok_slow"

    /// How many attempts of one key `tok_flaky` fails before it succeeds.
    package static let flakyFailures = 2

    /// The behaviour of `token`, or nil for a token the simulator does not know (`422`).
    package init?(token: String) {
        self.init(rawValue: token)
    }

    /// Whether the charge is approved once the simulator decides to answer.
    package var approves: Bool { self != .decline }

    /// Whether attempt number `attempt` (from 1) of one idempotency key fails with `503`.
    package func failsTransiently(attempt: Int) -> Bool {
        self == .flaky && attempt <= Self.flakyFailures
    }
}
