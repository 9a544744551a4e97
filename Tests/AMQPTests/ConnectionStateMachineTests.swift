import Testing

@testable import AMQP

@Suite struct ConnectionStateMachineTests {
    let now = ContinuousClock.now
    let backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(5))
    let refused = AMQPError(.connectionFailed, "cannot connect to 127.0.0.1:5672: connection refused")
    let lost = AMQPError(.connectionLost, "waiting for frames: a socket error occurred")

    func connected(addresses: Int = 1) -> ConnectionStateMachine {
        var machine = ConnectionStateMachine(addressCount: addresses, backoff: backoff, now: now)
        machine.connected()
        return machine
    }

    @Test func aNewConnectionTriesTheFirstAddressAtOnce() {
        let machine = ConnectionStateMachine(addressCount: 3, backoff: backoff, now: now)
        #expect(machine.state == .disconnected(retryAt: now))
        #expect(machine.addressToTry(at: now) == 0)
        #expect(!machine.canPublish)
        #expect(machine.nextDeadline == now)
    }

    @Test func aFailedAttemptTriesTheNextAddressAtOnceAndBacksOffOnlyWhenAllFailed() throws {
        var machine = ConnectionStateMachine(addressCount: 2, backoff: backoff, now: now)
        let first = machine.connectFailed(refused, at: now)
        #expect(first == .init(delay: .zero, attempt: 1, report: true))
        #expect(machine.addressToTry(at: now) == 1)

        let second = machine.connectFailed(refused, at: now)
        #expect(second.delay > .zero && second.delay <= backoff.initial)
        #expect(second.attempt == 2)
        #expect(!second.report, "the same cause is told once")
        #expect(machine.addressToTry(at: now) == nil)
        #expect(machine.addressToTry(at: now + second.delay) == 0)
        #expect(machine.nextDeadline == now + second.delay)
    }

    @Test func anOutageIsToldAgainWhenItsCauseChangesOrAMinutePassed() {
        var machine = ConnectionStateMachine(addressCount: 1, backoff: backoff, now: now)
        let answer1 = machine.connectFailed(refused, at: now)
        #expect(answer1.report)
        let answer2 = machine.connectFailed(refused, at: now + .seconds(30))
        #expect(!answer2.report)
        let login = AMQPError(.refused, replyCode: 403, "the broker refused user 'order'")
        let answer3 = machine.connectFailed(login, at: now + .seconds(31))
        #expect(answer3.report)
        let answer4 = machine.connectFailed(login, at: now + .seconds(32))
        #expect(!answer4.report)
        let answer5 = machine.connectFailed(login, at: now + .seconds(92))
        #expect(answer5.report)
    }

    @Test func connectingEndsTheOutageAndAllowsPublishing() {
        var machine = ConnectionStateMachine(addressCount: 1, backoff: backoff, now: now)
        _ = machine.connectFailed(refused, at: now)
        machine.connected()
        #expect(machine.state == .connected(blockedBy: nil))
        #expect(machine.canPublish)
        #expect(machine.addressToTry(at: now + .seconds(60)) == nil)
        #expect(machine.nextDeadline == nil)
    }

    @Test func aLostConnectionGoesToTheNextNodeAtOnceAndIsToldEvenIfTheLastOutageHadTheSameCause() throws {
        var machine = ConnectionStateMachine(addressCount: 3, backoff: backoff, now: now)
        _ = machine.connectFailed(lost, at: now)
        machine.connected()
        let answer = machine.connectionLost(lost, at: now + .seconds(1))
        let reconnect = try #require(answer)
        #expect(reconnect == .init(delay: .zero, attempt: 1, report: true))
        #expect(machine.addressToTry(at: now + .seconds(1)) == 2)
    }

    @Test func aLostConnectionToTheOnlyNodeBacksOff() throws {
        var machine = connected()
        let answer = machine.connectionLost(lost, at: now)
        let reconnect = try #require(answer)
        #expect(reconnect.delay > .zero && reconnect.delay <= backoff.initial)
        #expect(machine.addressToTry(at: now) == nil)
        let answer6 = machine.connectionLost(lost, at: now)
        #expect(answer6 == nil, "a connection is lost once")
    }

    @Test func aBlockedConnectionHoldsPublishesUntilUnblocked() {
        var machine = connected()
        machine.blocked("low on memory")
        #expect(machine.blockedReason == "low on memory")
        #expect(!machine.canPublish)
        machine.unblocked()
        #expect(machine.canPublish)
        machine.blocked("low on disk")
        _ = machine.connectionLost(lost, at: now)
        #expect(machine.blockedReason == nil, "a new connection starts unblocked")
        machine.connected()
        #expect(machine.canPublish)
    }

    @Test func aCloseWhileConnectedWaitsForConfirmsUpToItsGrace() {
        var machine = connected()
        let answer7 = machine.closeRequested(at: now)
        #expect(answer7)
        let answer8 = machine.closeRequested(at: now)
        #expect(!answer8, "asked once")
        #expect(!machine.shouldShutDown(unsettled: 3, at: now))
        #expect(machine.shouldShutDown(unsettled: 0, at: now))
        #expect(machine.shouldShutDown(unsettled: 3, at: now + ConnectionStateMachine.closeGrace))
        #expect(machine.nextDeadline == now + ConnectionStateMachine.closeGrace)
    }

    @Test func aCloseWhileDisconnectedHappensAtOnce() {
        var machine = ConnectionStateMachine(addressCount: 1, backoff: backoff, now: now)
        _ = machine.connectFailed(refused, at: now)
        let answer9 = machine.closeRequested(at: now)
        #expect(answer9)
        #expect(machine.shouldShutDown(unsettled: 5, at: now))
        machine.shutDown()
        #expect(machine.state == .closed)
        #expect(!machine.shouldShutDown(unsettled: 0, at: now), "shut down once")
        let answer10 = machine.closeRequested(at: now)
        #expect(!answer10)
        #expect(machine.addressToTry(at: now + .seconds(60)) == nil)
    }

    @Test func nothingShutsDownWithoutAClose() {
        let machine = connected()
        #expect(!machine.shouldShutDown(unsettled: 0, at: now + .seconds(3600)))
    }
}
