import Foundation
import Messaging
import MessagingConventions
import Testing

@testable import AMQP

/// Random and adversarial deliveries through everything that reads what the broker hands over:
/// properties and headers (decoded from and encoded back to librabbitmq's structures, as a retried
/// or parked copy is), the attempt header, and the body as a CloudEvent. Nothing may trap; what
/// cannot be read is an ``EnvelopeError`` with a reason.
@Suite struct DeliveryFuzzTests {
    @Test(arguments: [1, 2, 3, 4])
    func randomPropertiesAndBodiesNeverTrap(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let arena = CArena()
        for _ in 0..<2_500 {
            let properties = random.properties()
            // The way back to the broker: a parked or retried copy re-encodes every property and header.
            let encoded = arena.properties(properties)
            let decoded = AMQPProperties(amqp: encoded)
            arena.reset()
            #expect(decoded.headers.count == properties.headers.count)
            if let attempt = try? MessageHeaders.attempt(in: decoded.headers) {
                #expect((1...MessageHeaders.maxAttempts).contains(attempt))
            }
            do {
                let event = try CloudEvent(body: random.body(), properties: decoded)
                #expect(!event.id.isEmpty && !event.type.isEmpty)
            } catch {
                #expect(!error.reason.isEmpty)
            }
        }
    }

    @Test func attemptHeadersOfEveryShapeAreReadOrRefusedWithAReason() throws {
        let refused: [AMQPFieldValue] = [
            .int64(1 << 40), .int64(.min), .int64(0), .int32(-1), .uint64(.max), .uint32(.max), .int8(-128),
            .string("3"), .double(2.5), .bool(true), .array([.int8(1)]), .table(["a": .int8(1)]), .void, .timestamp(Date()),
        ]
        for value in refused {
            #expect(throws: EnvelopeError.self, "\(value)") { try MessageHeaders.attempt(in: [MessageHeaders.attempts: value]) }
        }
        #expect(try MessageHeaders.attempt(in: [:]) == 1)
        #expect(try MessageHeaders.attempt(in: [MessageHeaders.attempts: .uint8(3)]) == 3)
        #expect(try MessageHeaders.attempt(in: [MessageHeaders.attempts: .int64(1000)]) == 1000)
        #expect(throws: EnvelopeError("header x-orderly-attempts must be a whole number from 1 to 1000, not int64(1099511627776)")) {
            try MessageHeaders.attempt(in: [MessageHeaders.attempts: .int64(1 << 40)])
        }
    }

    @Test func timestampsBeyondAnyCalendarAreWrittenBackSaturated() {
        #expect(UInt64(amqpTimestamp: Date(timeIntervalSince1970: 1.8446744073709552e19)) == .max)
        #expect(UInt64(amqpTimestamp: Date(timeIntervalSince1970: -5)) == 0)
        #expect(UInt64(amqpTimestamp: Date(timeIntervalSince1970: .nan)) == 0)
        #expect(UInt64(amqpTimestamp: Date(timeIntervalSince1970: .infinity)) == .max)
        #expect(UInt64(amqpTimestamp: Date(timeIntervalSince1970: 1_700_000_000.9)) == 1_700_000_000)
    }

    @Test func hostileBodiesArePreciseErrors() {
        let valid = #"{"specversion":"1.0","id":"e-1","source":"/t","type":"t.x","data":{"a":1}}"#
        let cases: [(String, String)] = [
            (#"{"specversion":"1.0","id":"e-1","source":"/t","type":"t.x","data":1e999}"#, "the body is not JSON"),
            (String(repeating: "[", count: 10_000), "not JSON"),
            (#"{"specversion":"1.0","id":"\#(String(repeating: "x", count: 600))","source":"/t","type":"t.x","data":{}}"#, "at most 512"),
            (#"{"specversion":2,"id":"e-1","source":"/t","type":"t.x","data":{}}"#, "'specversion' must be a non-empty string"),
            (#"{"specversion":"0.3","id":"e-1","source":"/t","type":"t.x","data":{}}"#, "unsupported CloudEvents specversion"),
            (#"{"specversion":"1.0","id":"e-1","source":"/t","type":"t.x","time":"yesterday","data":{}}"#, "not an RFC 3339 time"),
            ("[]", "not an object"),
        ]
        for (body, expected) in cases {
            do {
                _ = try CloudEvent(body: Array(body.utf8), properties: AMQPProperties())
                Issue.record("accepted: \(body.prefix(80))")
            } catch {
                #expect(error.reason.contains(expected), "\(error.reason)")
            }
        }
        #expect(throws: EnvelopeError.self) { try CloudEvent(body: Array(valid.utf8), properties: AMQPProperties(type: "other.type")) }
        #expect(throws: EnvelopeError.self) {
            try CloudEvent(body: Array(repeating: 32, count: CloudEvent.maxBodyBytes + 1), properties: AMQPProperties())
        }
        #expect((try? CloudEvent(body: Array(valid.utf8), properties: AMQPProperties(messageID: "e-1", type: "t.x"))) != nil)
    }
}

/// A small, seeded generator, so that a failing run can be repeated.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension SplitMix64 {
    mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &self) < percent }

    mutating func text(maxLength: Int = 40) -> String {
        let alphabet = Array("abcXYZ019-_.:/ \u{00e9}\u{4e2d}\u{1f600}\"\\{}[]\n\0")
        return String((0..<Int.random(in: 0...maxLength, using: &self)).map { _ in alphabet.randomElement(using: &self)! })
    }

    mutating func date() -> Date {
        switch Int.random(in: 0..<6, using: &self) {
        case 0: Date(timeIntervalSince1970: 1.8446744073709552e19)
        case 1: Date(timeIntervalSince1970: -1e12)
        case 2: Date(timeIntervalSince1970: .nan)
        case 3: Date(timeIntervalSince1970: .infinity)
        default: Date(timeIntervalSince1970: Double.random(in: 0...4e9, using: &self))
        }
    }

    mutating func fieldValue(depth: Int = 0) -> AMQPFieldValue {
        switch Int.random(in: 0..<(depth > 3 ? 16 : 18), using: &self) {
        case 0: .bool(chance(50))
        case 1: .int8(Int8(truncatingIfNeeded: next()))
        case 2: .uint8(UInt8(truncatingIfNeeded: next()))
        case 3: .int16(Int16(truncatingIfNeeded: next()))
        case 4: .uint16(UInt16(truncatingIfNeeded: next()))
        case 5: .int32(Int32(truncatingIfNeeded: next()))
        case 6: .uint32(UInt32(truncatingIfNeeded: next()))
        case 7: .int64(Int64(bitPattern: next()))
        case 8: .uint64(next())
        case 9: .float(Float(bitPattern: UInt32(truncatingIfNeeded: next())))
        case 10: .double(Double(bitPattern: next()))
        case 11: .decimal(scale: UInt8(truncatingIfNeeded: next()), value: UInt32(truncatingIfNeeded: next()))
        case 12: .string(text())
        case 13: .bytes((0..<Int.random(in: 0...16, using: &self)).map { _ in UInt8(truncatingIfNeeded: next()) })
        case 14: .timestamp(date())
        case 15: .void
        case 16: .array((0..<Int.random(in: 0...4, using: &self)).map { _ in fieldValue(depth: depth + 1) })
        default: .table(table(depth: depth + 1))
        }
    }

    mutating func table(depth: Int = 0) -> AMQPTable {
        var table: AMQPTable = [:]
        for _ in 0..<Int.random(in: 0...5, using: &self) { table[text(maxLength: 12)] = fieldValue(depth: depth) }
        if depth == 0 && chance(40) { table[MessageHeaders.attempts] = fieldValue(depth: 4) }
        return table
    }

    mutating func properties() -> AMQPProperties {
        AMQPProperties(
            contentType: chance(50) ? text() : nil, headers: table(), persistent: chance(50) ? chance(50) : nil,
            priority: chance(30) ? UInt8(truncatingIfNeeded: next()) : nil, correlationID: chance(50) ? text() : nil,
            messageID: chance(60) ? (chance(50) ? "e-1" : text()) : nil, timestamp: chance(60) ? date() : nil,
            type: chance(60) ? (chance(50) ? "t.x" : text()) : nil, appID: chance(30) ? text() : nil
        )
    }

    /// A body: random bytes, or a valid envelope with one part broken.
    mutating func body() -> [UInt8] {
        if chance(20) { return (0..<Int.random(in: 0...64, using: &self)).map { _ in UInt8(truncatingIfNeeded: next()) } }
        var attributes: [String: String] = ["specversion": "\"1.0\"", "id": "\"e-1\"", "source": "\"/t\"", "type": "\"t.x\"", "data": "{\"a\":1}"]
        let mutations: [String] = [
            "1e999", "-1e999", "null", "[]", "{}", "\"\"", "true", "12345678901234567890123456789",
            String(repeating: "[", count: 600) + String(repeating: "]", count: 600), "\"\(text())\"",
        ]
        for _ in 0..<Int.random(in: 0...3, using: &self) {
            let key = ["specversion", "id", "source", "type", "data", "subject", "time", "traceparent", "datacontenttype"].randomElement(
                using: &self)!
            if chance(20) { attributes[key] = nil } else { attributes[key] = mutations.randomElement(using: &self)! }
        }
        let json = "{" + attributes.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}"
        var bytes = Array(json.utf8)
        if chance(10), !bytes.isEmpty { bytes.removeLast(Int.random(in: 1...bytes.count, using: &self)) }
        return bytes
    }
}
