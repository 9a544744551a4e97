import Foundation
import GatewaySim
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@Suite("gateway-sim over HTTP, with its ledger in the real database", .timeLimit(.minutes(1)))
struct GatewaySimulatorTests {
    @Test func anApprovedChargeIsInTheLedger() async throws {
        let fixture = try await GatewayFixture.make()
        try await fixture.test { client in
            let response = try await client.charge(key: "charge:o-1", order: "o-1")
            #expect(response.status == .created)
            #expect(response.object["status"] as? String == "succeeded")
            let chargeID = try #require(response.object["charge_id"] as? String)
            let ledger = try await client.ledger(order: "o-1")
            #expect(ledger.charges == [.init(chargeID: chargeID, orderID: "o-1", amountCents: 2500, currency: "EUR", status: "succeeded")])
            #expect(ledger.refunds.isEmpty)
        }
        try await fixture.tearDown()
    }

    @Test func aKeySeenBeforeReturnsTheOriginalAnswer() async throws {
        let fixture = try await GatewayFixture.make()
        try await fixture.test { client in
            let first = try await client.charge(key: "k-1", order: "o-1")
            let second = try await client.charge(key: "k-1", order: "o-1")
            #expect(second.status == first.status)
            #expect(second.text == first.text)
            #expect(second.headers[.init("Idempotent-Replayed")!] == "true")
            let otherAmount = try await client.charge(amount: 999, key: "k-1", order: "o-1")
            #expect(otherAmount.status == .unprocessableContent)
            #expect(try await client.ledger(order: "o-1").charges.count == 1)
        }
        try await fixture.tearDown()
    }

    @Test func aDeclineIsA402ProblemAndIsRecorded() async throws {
        let fixture = try await GatewayFixture.make()
        try await fixture.test { client in
            let response = try await client.charge(token: "tok_decline", key: "k-d", order: "o-d")
            #expect(response.status.code == 402)
            #expect(response.headers[.contentType] == "application/problem+json")
            #expect(response.object["code"] as? String == "card_declined")
            let replay = try await client.charge(token: "tok_decline", key: "k-d", order: "o-d")
            #expect(replay.status.code == 402)
            #expect(replay.text == response.text)
            let ledger = try await client.ledger(order: "o-d")
            #expect(ledger.charges.map(\.status) == ["declined"])
            #expect(ledger.succeededCharges.isEmpty)
        }
        try await fixture.tearDown()
    }

    @Test func aFlakyTokenFailsTwiceThenSucceedsOnce() async throws {
        let fixture = try await GatewayFixture.make()
        try await fixture.test { client in
            #expect(try await client.charge(token: "tok_flaky", key: "k-f", order: "o-f").status == .serviceUnavailable)
            #expect(try await client.ledger(order: "o-f").charges.isEmpty)
            #expect(try await client.charge(token: "tok_flaky", key: "k-f", order: "o-f").status == .serviceUnavailable)
            let third = try await client.charge(token: "tok_flaky", key: "k-f", order: "o-f")
            #expect(third.status == .created)
            let fourth = try await client.charge(token: "tok_flaky", key: "k-f", order: "o-f")
            #expect(fourth.text == third.text)
            #expect(try await client.ledger(order: "o-f").succeededCharges.count == 1)
        }
        try await fixture.tearDown()
    }

    @Test func aSlowTokenAnswersAfterTheDelay() async throws {
        // A replay that waited the delay again takes longer than it, whatever the machine; one that did not is a
        // read of the ledger, which no load makes take ten seconds. So the bound tells the two apart, not the speed.
        let slowDelay = Duration.seconds(10)
        let fixture = try await GatewayFixture.make(slowDelay: slowDelay)
        try await fixture.test { client in
            let start = ContinuousClock.now
            let response = try await client.charge(token: "tok_slow", key: "k-s", order: "o-s")
            #expect(ContinuousClock.now - start >= slowDelay)
            #expect(response.status == .created)
            // A replay answers at once, from the ledger.
            let replayStart = ContinuousClock.now
            let replay = try await client.charge(token: "tok_slow", key: "k-s", order: "o-s")
            #expect(ContinuousClock.now - replayStart < slowDelay)
            #expect(replay.text == response.text)
            #expect(replay.headers[.init("Idempotent-Replayed")!] == "true")
        }
        try await fixture.tearDown()
    }

    @Test func invalidRequestsAreProblems() async throws {
        let fixture = try await GatewayFixture.make()
        try await fixture.test { client in
            let unknown = try await client.charge(token: "tok_nope", key: "k-u", order: "o-u")
            #expect(unknown.status == .unprocessableContent)
            #expect(unknown.headers[.contentType] == "application/problem+json")
            let malformed = try await client.executeRequest(
                uri: "/v1/charges", method: .post, headers: GatewayFixture.json, body: ByteBuffer(string: "{not json")
            )
            #expect(malformed.status == .badRequest)
            let missing = try await client.executeRequest(
                uri: "/v1/charges", method: .post, headers: GatewayFixture.json, body: ByteBuffer(string: #"{"amount_cents":"ten"}"#)
            )
            #expect(missing.status == .unprocessableContent)
            let empty = try await client.executeRequest(
                uri: "/v1/charges", method: .post, headers: GatewayFixture.json, body: ByteBuffer(string: "{}"))
            #expect(empty.status == .unprocessableContent)
            let fields = (empty.object["errors"] as? [[String: Any]])?.compactMap { $0["field"] as? String } ?? []
            #expect(Set(fields) == ["amount_cents", "currency", "token", "idempotency_key", "order_id"])
            let huge = try await client.executeRequest(
                uri: "/v1/charges", method: .post, headers: GatewayFixture.json,
                body: ByteBuffer(string: #"{"token":""# + String(repeating: "x", count: 70_000) + #""}"#)
            )
            #expect(huge.status == .contentTooLarge)
            #expect(huge.headers[.contentType] == "application/problem+json")
            #expect(try await client.ledger().charges.isEmpty)
        }
        try await fixture.tearDown()
    }

    @Test func concurrentRequestsWithOneKeyMakeOneCharge() async throws {
        let fixture = try await GatewayFixture.make()
        try await fixture.test { client in
            let bodies = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for _ in 0..<16 {
                    group.addTask {
                        let response = try await client.charge(key: "k-race", order: "o-race")
                        return (response.status.code, response.text)
                    }
                }
                return try await group.reduce(into: [(Int, String)]()) { $0.append($1) }
            }
            #expect(Set(bodies.map(\.0)) == [201])
            #expect(Set(bodies.map(\.1)).count == 1)
            #expect(try await client.ledger(order: "o-race").charges.count == 1)
        }
        try await fixture.tearDown()
    }

    @Test func refundsAreIdempotentAndBoundedByTheCharge() async throws {
        let fixture = try await GatewayFixture.make()
        try await fixture.test { client in
            let charge = try await client.charge(amount: 1000, key: "k-r", order: "o-r")
            let chargeID = try #require(charge.object["charge_id"] as? String)

            let first = try await client.refund(charge: chargeID, amount: 400, key: "refund-1")
            #expect(first.status == .created)
            let refundID = try #require(first.object["refund_id"] as? String)
            let replay = try await client.refund(charge: chargeID, amount: 400, key: "refund-1")
            #expect(replay.status == .created)
            #expect(replay.text == first.text)

            let tooMuch = try await client.refund(charge: chargeID, amount: 601, key: "refund-2")
            #expect(tooMuch.status == .unprocessableContent)
            #expect(try await client.refund(charge: chargeID, amount: 600, key: "refund-3").status == .created)
            #expect(try await client.refund(charge: chargeID, amount: 1, key: "refund-4").status == .unprocessableContent)
            #expect(try await client.refund(charge: "ch_missing", amount: 1, key: "refund-5").status == .notFound)

            let ledger = try await client.ledger(order: "o-r")
            #expect(ledger.refunds.count == 2)
            #expect(ledger.refunds.first?.refundID == refundID)
            #expect(ledger.refunds.reduce(0) { $0 + $1.amountCents } == 1000)
        }
        try await fixture.tearDown()
    }

    @Test func concurrentRefundsWithOneKeyMakeOneRefund() async throws {
        let fixture = try await GatewayFixture.make()
        try await fixture.test { client in
            let chargeID = try #require(try await client.charge(amount: 700, key: "k-rr", order: "o-rr").object["charge_id"] as? String)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<12 {
                    group.addTask { try await client.refund(charge: chargeID, amount: 700, key: "refund:\(chargeID)").status.code }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(Set(statuses) == [201])
            #expect(try await client.ledger(order: "o-rr").refunds.count == 1)
        }
        try await fixture.tearDown()
    }

    @Test func aDeclinedChargeCannotBeRefunded() async throws {
        let fixture = try await GatewayFixture.make()
        try await fixture.test { client in
            let declined = try await client.charge(token: "tok_decline", key: "k-x", order: "o-x")
            let chargeID = try #require(declined.object["charge_id"] as? String)
            #expect(try await client.refund(charge: chargeID, amount: 1, key: "r-x").status == .unprocessableContent)
        }
        try await fixture.tearDown()
    }

    @Test func theLedgerFiltersByOrder() async throws {
        let fixture = try await GatewayFixture.make()
        try await fixture.test { client in
            _ = try await client.charge(key: "k-a", order: "o-a")
            _ = try await client.charge(token: "tok_decline", key: "k-b", order: "o-b")
            #expect(try await client.ledger(order: "o-a").charges.map(\.orderID) == ["o-a"])
            #expect(Set(try await client.ledger().charges.map(\.orderID)) == ["o-a", "o-b"])
        }
        try await fixture.tearDown()
    }
}
