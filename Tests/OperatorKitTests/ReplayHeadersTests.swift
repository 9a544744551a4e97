import AMQP
import Foundation
import Messaging
import OperatorKit
import Testing

struct ReplayHeadersTests {
    @Test func aReplayedCopyKeepsItsHistoryStartsItsAttemptsAgainAndCountsTheReplay() {
        let parked = AMQPProperties(
            headers: [
                MessageHeaders.parkedReason: "bad", MessageHeaders.attempts: .int32(6), "x-death": .array([.table(["count": .int64(1)])]),
                "x-delivery-count": .int64(4),
            ], persistent: false, messageID: "a", type: "order.placed")
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        let once = ReplayHeaders.replayed(parked, at: at)
        #expect(once.headers[ReplayHeaders.replays] == .int64(1))
        #expect(once.headers[ReplayHeaders.replayedAt] == .timestamp(at))
        #expect(once.headers["x-delivery-count"] == nil)
        #expect(once.headers[MessageHeaders.parkedReason] == "bad")
        #expect(once.headers[MessageHeaders.attempts] == nil, "the retries start again")
        #expect(once.headers[ReplayHeaders.attemptsBeforeReplay] == .int32(6))
        #expect(once.headers["x-death"] == parked.headers["x-death"])
        #expect(once.persistent == true && once.messageID == "a" && once.type == "order.placed")
        #expect(ReplayHeaders.replayed(once, at: at).headers[ReplayHeaders.replays] == .int64(2))
    }

    @Test func aParkedMessageReadsItsParkingHeadersWhateverTheirIntegerWidth() {
        let message = ParkedMessage(
            properties: AMQPProperties(headers: [
                MessageHeaders.attempts: .uint8(3), MessageHeaders.parkedAt: .timestamp(Date(timeIntervalSince1970: 10)),
                ReplayHeaders.replays: .int16(2), MessageHeaders.parkedReason: .bytes(Array("why".utf8)),
            ]), body: [0xFF])
        #expect(message.attempts == 3)
        #expect(message.parkedAt == Date(timeIntervalSince1970: 10))
        #expect(message.replays == 2)
        #expect(message.reason == "why")
        #expect(message.text == nil)
    }
}
