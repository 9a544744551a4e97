import Hummingbird

/// A set of secret keys that HTTP clients present to be let in: the intake's API keys
/// (`ORDERLY_API_KEYS`) or the administrative keys (`ORDERLY_ADMIN_KEYS`).
///
/// Keys are compared in constant time, against every key without stopping early, so the time a
/// refusal takes does not tell which prefix matched.
package struct AccessKeys: Sendable, Hashable {
    package let keys: Set<String>

    package init(_ keys: some Sequence<String>) {
        self.keys = Set(keys.filter { !$0.isEmpty })
    }

    /// Keys from a comma-separated list, blanks around each key ignored: how the variables hold them.
    package init(list: String) {
        self.init(list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
    }

    package var isEmpty: Bool { keys.isEmpty }

    /// Whether `presented` is one of the keys.
    package func contains(_ presented: String) -> Bool {
        var matched = false
        for key in keys where Self.constantTimeEquals(key, presented) { matched = true }
        return matched
    }

    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let a = Array(a.utf8)
        let b = Array(b.utf8)
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }
}

extension ServiceSettings {
    /// The keys the HTTP intake asks for (`ORDERLY_API_KEYS`, comma-separated); none means the intake is open.
    package var apiKeys: AccessKeys { AccessKeys(list: environment["ORDERLY_API_KEYS"] ?? "") }

    /// The keys administrative routes ask for (`ORDERLY_ADMIN_KEYS`, comma-separated); none means they are closed.
    package var adminKeys: AccessKeys { AccessKeys(list: environment["ORDERLY_ADMIN_KEYS"] ?? "") }
}
