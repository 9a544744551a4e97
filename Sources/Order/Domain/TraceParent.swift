/// A W3C trace context `traceparent` value (`00-<trace id>-<parent id>-<flags>`).
///
/// Orders keep the one their request came with, or a fresh one, and carry it on every event.
public struct TraceParent: Sendable, Hashable, CustomStringConvertible {
    /// The header text.
    public let description: String

    /// Accepts `text` when it is a well-formed `traceparent` (version `00` layout, non-zero ids).
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4,
            parts[0].count == 2, parts[0] != "ff", Self.isHex(parts[0]),
            parts[1].count == 32, Self.isHex(parts[1]), parts[1].contains(where: { $0 != "0" }),
            parts[2].count == 16, Self.isHex(parts[2]), parts[2].contains(where: { $0 != "0" }),
            parts[3].count == 2, Self.isHex(parts[3]),
            parts[0] != "00" || parts.count == 4
        else { return nil }
        description = text
    }

    /// The trace id: the 32 hex digits every span of the trace shares.
    public var traceID: String { String(description.split(separator: "-")[1]) }

    /// A new trace: random trace and parent ids, sampled.
    public static func random() -> TraceParent {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    /// A new trace from `generator`: random non-zero ids, sampled.
    public static func random(using generator: inout some RandomNumberGenerator) -> TraceParent {
        func hex(_ bytes: Int) -> String {
            var text = ""
            repeat {
                text = (0..<bytes).map { _ in
                    let byte = UInt8.random(in: 0...255, using: &generator)
                    return String(byte, radix: 16).leftPadded(to: 2)
                }.joined()
            } while text.allSatisfy { $0 == "0" }
            return text
        }
        return TraceParent("00-\(hex(16))-\(hex(8))-01")!
    }

    private static func isHex(_ text: Substring) -> Bool {
        text.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
