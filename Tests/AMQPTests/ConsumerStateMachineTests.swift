import Testing

@testable import AMQP

@Suite struct ConsumerStateMachineTests {
    let now = ContinuousClock.now
    let backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(5))
    let missingQueue = AMQPError(.channelClosed, replyCode: 404, "basic.consume: NOT_FOUND - no queue 'q'")

    /// A consumer that has started once, on a channel of epoch 7.
    func consuming() -> ConsumerStateMachine {
        var machine = ConsumerStateMachine(backoff: backoff)
        _ = machine.started(epoch: 7)
        return machine
    }

    @Test func aNewConsumerWantsToStartAndTakesNothingYet() {
        let machine = ConsumerStateMachine(backoff: backoff)
        #expect(machine.state == .registered)
        #expect(machine.wantsStart(at: now))
        #expect(machine.deliveryEpoch == nil)
        #expect(!machine.acknowledges(epoch: 0))
    }

    @Test func theFirstStartAnswersTheCaller() {
        var machine = ConsumerStateMachine(backoff: backoff)
        let answer1 = machine.started(epoch: 7)
        #expect(answer1 == [.recordFailure(nil), .answerRegistration(failure: nil)])
        #expect(machine.state == .consuming(epoch: 7))
        #expect(machine.deliveryEpoch == 7)
        #expect(machine.acknowledges(epoch: 7))
        #expect(!machine.acknowledges(epoch: 6))
        #expect(!machine.wantsStart(at: now + .seconds(60)))
    }

    @Test func aFailedFirstStartFailsTheCallerAndEndsTheConsumer() {
        var machine = ConsumerStateMachine(backoff: backoff)
        let answer2 = machine.startFailed(missingQueue, at: now)
        #expect(answer2 == [.finishDeliveries, .answerRegistration(failure: missingQueue), .remove])
        #expect(machine.state == .finished)
        #expect(!machine.wantsStart(at: now + .seconds(60)))
    }

    @Test func aLostConnectionStopsTheConsumerUntilTheNextOne() {
        var machine = consuming()
        let answer3 = machine.connectionLost(at: now)
        #expect(answer3 == [])
        #expect(machine.state == .stopped(retryAt: now, failures: 0))
        #expect(machine.wantsStart(at: now))
        #expect(machine.deliveryEpoch == nil)
        #expect(!machine.acknowledges(epoch: 7), "the broker delivers again what the lost channel delivered")
    }

    @Test func aRestartOnTheNextConnectionConsumesOnANewEpochWithoutAnsweringAgain() {
        var machine = consuming()
        _ = machine.connectionLost(at: now)
        let answer4 = machine.started(epoch: 9)
        #expect(answer4 == [.recordFailure(nil)])
        #expect(machine.deliveryEpoch == 9)
        #expect(!machine.acknowledges(epoch: 7))
    }

    @Test func failedRestartsBackOffAndAreToldOncePerCause() throws {
        var machine = consuming()
        _ = machine.connectionLost(at: now)
        let answer5 = machine.startFailed(missingQueue, at: now)
        #expect(answer5 == [.recordFailure(missingQueue), .warnRestartFailed(missingQueue, attempt: 1)])
        guard case .stopped(let firstRetry, 1, nil) = machine.state else {
            Issue.record("expected a stopped consumer, got \(machine.state)")
            return
        }
        #expect(firstRetry > now && firstRetry <= now + backoff.initial)
        #expect(!machine.wantsStart(at: now))
        #expect(machine.wantsStart(at: firstRetry))

        let answer6 = machine.startFailed(missingQueue, at: firstRetry)
        #expect(answer6 == [.recordFailure(missingQueue)], "the same cause again is not logged")
        guard case .stopped(let secondRetry, 2, nil) = machine.state else {
            Issue.record("expected a stopped consumer, got \(machine.state)")
            return
        }
        #expect(secondRetry - firstRetry <= backoff.initial * 2)

        let refused = AMQPError(.channelClosed, replyCode: 403, "ACCESS_REFUSED")
        let answer7 = machine.startFailed(refused, at: secondRetry)
        #expect(answer7 == [.recordFailure(refused), .warnRestartFailed(refused, attempt: 3)])
    }

    @Test func aSuccessfulRestartForgetsTheFailures() {
        var machine = consuming()
        _ = machine.connectionLost(at: now)
        _ = machine.startFailed(missingQueue, at: now)
        _ = machine.started(epoch: 8)
        _ = machine.connectionLost(at: now)
        let answer8 = machine.startFailed(missingQueue, at: now)
        #expect(answer8 == [.recordFailure(missingQueue), .warnRestartFailed(missingQueue, attempt: 1)])
    }

    @Test func theBrokerCancellingAConsumerRestartsItAfterTheInitialBackoffOnTheSameChannel() {
        var machine = consuming()
        let answer = machine.cancelledByBroker(at: now)
        #expect(answer == [.warnCancelledByBroker])
        #expect(machine.state == .stopped(retryAt: now + backoff.initial, failures: 0, channelEpoch: 7))
        #expect(machine.deliveryEpoch == nil, "no more deliveries until it consumes again")
        #expect(machine.acknowledges(epoch: 7), "its channel is open: what it was given can still be acknowledged")
        #expect(machine.channelEpoch == 7)
        let again = machine.cancelledByBroker(at: now)
        #expect(again == [], "told once")
    }

    @Test func aConsumerCancelledByTheBrokerLosesItsEpochWithItsChannelOrConnection() {
        var byChannel = consuming()
        _ = byChannel.cancelledByBroker(at: now)
        _ = byChannel.channelClosed(at: now)
        #expect(!byChannel.acknowledges(epoch: 7))
        var byConnection = consuming()
        _ = byConnection.cancelledByBroker(at: now)
        _ = byConnection.connectionLost(at: now)
        #expect(!byConnection.acknowledges(epoch: 7))
        #expect(byConnection.state == .stopped(retryAt: now + backoff.initial, failures: 0))
    }

    @Test func aFailedRestartAfterACancelByTheBrokerLosesTheEpoch() {
        var machine = consuming()
        _ = machine.cancelledByBroker(at: now)
        _ = machine.startFailed(missingQueue, at: now)
        #expect(machine.channelEpoch == nil, "a method that fails closes its channel")
    }

    @Test func theBrokerClosingAConsumersChannelRestartsIt() {
        var machine = consuming()
        let answer11 = machine.channelClosed(at: now)
        #expect(answer11 == [])
        #expect(machine.state == .stopped(retryAt: now + backoff.initial, failures: 0))
    }

    @Test func cancellingAConsumingConsumerKeepsItsChannelForAcknowledgements() {
        var machine = consuming()
        let answer12 = machine.cancel()
        #expect(answer12 == [.recordFailure(nil), .finishDeliveries, .cancelOnBroker])
        #expect(machine.state == .cancelling(epoch: 7))
        #expect(machine.deliveryEpoch == nil, "no more deliveries")
        #expect(machine.acknowledges(epoch: 7), "what it delivered can still be acknowledged")
        #expect(!machine.wantsStart(at: now + .seconds(60)))
        let answer13 = machine.cancel()
        #expect(answer13 == [], "cancelling twice does nothing")
        let answer14 = machine.cancelledByBroker(at: now)
        #expect(answer14 == [])
    }

    @Test(arguments: [true, false])
    func aCancelledConsumerIsForgottenWithItsChannelOrConnection(channelOnly: Bool) {
        var machine = consuming()
        _ = machine.cancel()
        let actions = channelOnly ? machine.channelClosed(at: now) : machine.connectionLost(at: now)
        #expect(actions == [.remove])
        #expect(machine.state == .finished)
        #expect(!machine.acknowledges(epoch: 7))
    }

    @Test func cancellingAStoppedConsumerEndsItAtOnce() {
        var machine = consuming()
        _ = machine.connectionLost(at: now)
        let answer15 = machine.cancel()
        #expect(answer15 == [.recordFailure(nil), .finishDeliveries, .remove])
        #expect(machine.state == .finished)
    }

    @Test func cancellingBeforeTheFirstStartFailsTheCaller() {
        var machine = ConsumerStateMachine(backoff: backoff)
        let actions = machine.cancel()
        #expect(actions.contains(.remove) && actions.contains(.finishDeliveries))
        #expect(actions.contains { if case .answerRegistration(let failure?) = $0 { failure.code == .closed } else { false } })
    }

    @Test func eventsAfterTheEndChangeNothing() {
        var machine = ConsumerStateMachine(backoff: backoff)
        _ = machine.startFailed(missingQueue, at: now)
        let answer16 = machine.connectionLost(at: now)
        #expect(answer16 == [])
        let answer17 = machine.channelClosed(at: now)
        #expect(answer17 == [])
        let answer18 = machine.cancel()
        #expect(answer18 == [])
        let answer19 = machine.startFailed(missingQueue, at: now)
        #expect(answer19 == [])
        #expect(machine.state == .finished)
    }
}
