/// A W3C trace context `traceparent` value: `00-<trace id>-<parent id>-<flags>`, as 32, 16 and 2
/// lowercase hex digits.
///
/// Held as integers, so that reading one from a message, making a child and writing it back cost no
/// more than the one string written. Orders keep the one their request came with (or a fresh one), and
/// every event carries the one of the span that emitted it.
package struct TraceParent: Sendable, Hashable, CustomStringConvertible {
    /// The trace, the same on every hop of one order's saga: the high and low halves of its 128 bits.
    package var traceIDHigh: UInt64
    package var traceIDLow: UInt64
    /// The span that sent it (the parent of whoever receives it).
    package var parentID: UInt64
    /// The trace flags; bit 0 is `sampled`.
    package var flags: UInt8

    /// A trace context from its parts; `nil` when either id is zero, which W3C forbids.
    package init?(traceIDHigh: UInt64, traceIDLow: UInt64, parentID: UInt64, flags: UInt8 = 1) {
        guard traceIDHigh != 0 || traceIDLow != 0, parentID != 0 else { return nil }
        self.traceIDHigh = traceIDHigh
        self.traceIDLow = traceIDLow
        self.parentID = parentID
        self.flags = flags
    }

    /// Reads a `traceparent` header.
    ///
    /// Accepts version `00` with exactly four fields, and later versions (not `ff`) with more fields
    /// after the first four, as the specification asks of a version-00 reader. Hex digits must be
    /// lowercase; all-zero ids are refused. `nil` for anything else.
    package init?(_ text: some StringProtocol) {
        var utf8 = text.utf8.makeIterator()
        guard let version = Self.hex(&utf8, digits: 2), version != 0xff, utf8.next() == Self.dash,
            let high = Self.hex(&utf8, digits: 16), let low = Self.hex(&utf8, digits: 16), utf8.next() == Self.dash,
            let parent = Self.hex(&utf8, digits: 16), utf8.next() == Self.dash,
            let flags = Self.hex(&utf8, digits: 2)
        else { return nil }
        switch utf8.next() {
        case nil: break
        case Self.dash where version != 0: break
        default: return nil
        }
        self.init(traceIDHigh: high, traceIDLow: low, parentID: parent, flags: UInt8(flags))
    }

    /// A new trace: random trace and parent ids, sampled.
    package static func random() -> TraceParent {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    /// A new trace from `generator`: random non-zero ids, sampled.
    package static func random(using generator: inout some RandomNumberGenerator) -> TraceParent {
        var high: UInt64 = 0
        var low: UInt64 = 0
        while (high, low) == (0, 0) { (high, low) = (generator.next(), generator.next()) }
        return TraceParent(traceIDHigh: high, traceIDLow: low, parentID: nonZero(using: &generator))!
    }

    /// The same trace and flags, sent by a new span: what a child span passes on.
    package func child(using generator: inout some RandomNumberGenerator) -> TraceParent {
        var child = self
        child.parentID = Self.nonZero(using: &generator)
        return child
    }

    /// Whether the sender recorded its span (flag bit 0).
    package var isSampled: Bool { flags & 1 == 1 }

    /// The header text, version `00`.
    package var description: String {
        Self.hexText(count: 55) { writer in
            writer.write(0, digits: 2)
            writer.dash()
            writer.write(traceIDHigh, digits: 16)
            writer.write(traceIDLow, digits: 16)
            writer.dash()
            writer.write(parentID, digits: 16)
            writer.dash()
            writer.write(UInt64(flags), digits: 2)
        }
    }

    /// The trace id as 32 hex digits, as logs show it.
    package var traceIDText: String {
        Self.hexText(count: 32) { writer in
            writer.write(traceIDHigh, digits: 16)
            writer.write(traceIDLow, digits: 16)
        }
    }

    /// The parent id as 16 hex digits, as logs show it.
    package var parentIDText: String { Self.hexText(count: 16) { $0.write(parentID, digits: 16) } }

    private static let dash = UInt8(ascii: "-")

    /// Writes hex digits into a string's buffer.
    private struct HexWriter {
        var buffer: UnsafeMutableBufferPointer<UInt8>
        var index = 0

        mutating func write(_ value: UInt64, digits: Int) {
            for shift in stride(from: (digits - 1) * 4, through: 0, by: -4) {
                let nibble = UInt8((value >> UInt64(shift)) & 0xf)
                buffer[index] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
                index += 1
            }
        }

        mutating func dash() {
            buffer[index] = TraceParent.dash
            index += 1
        }
    }

    /// A string of `count` ASCII characters written by `body`, in one allocation.
    private static func hexText(count: Int, _ body: (inout HexWriter) -> Void) -> String {
        String(unsafeUninitializedCapacity: count) { buffer in
            var writer = HexWriter(buffer: buffer)
            body(&writer)
            return writer.index
        }
    }

    private static func nonZero(using generator: inout some RandomNumberGenerator) -> UInt64 {
        var value: UInt64 = 0
        while value == 0 { value = generator.next() }
        return value
    }

    /// Reads `digits` lowercase hex digits as a number.
    private static func hex(_ utf8: inout some IteratorProtocol<UInt8>, digits: Int) -> UInt64? {
        var value: UInt64 = 0
        for _ in 0..<digits {
            guard let byte = utf8.next() else { return nil }
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = value << 4 | UInt64(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = value << 4 | UInt64(byte - UInt8(ascii: "a") + 10)
            default: return nil
            }
        }
        return value
    }
}
