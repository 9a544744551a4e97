import CAMQPShim
import CRabbitMQ

// MARK: Consumers

extension IOLoop {
    /// A registered consumer: what the application asked for, the channel it consumes on, and where
    /// it is in its lifecycle.
    struct Consumer {
        var registration: ConsumerRegistration
        var channel: amqp_channel_t
        var lifecycle: ConsumerStateMachine
        /// Answers the caller of `consume` once, at the first start.
        var reply: (@Sendable (Result<Void, AMQPError>) -> Void)?
    }

    func register(_ registration: ConsumerRegistration, reply: @escaping @Sendable (Result<Void, AMQPError>) -> Void) {
        guard consumers[registration.tag] == nil else {
            reply(.failure(AMQPError(.invalidConfiguration, "consumer tag \(registration.tag) is in use")))
            return
        }
        let used = Set(consumers.values.map(\.channel))
        let channel = (3...amqp_channel_t.max).first { !used.contains($0) }!
        consumers[registration.tag] = Consumer(
            registration: registration, channel: channel, lifecycle: ConsumerStateMachine(backoff: configuration.reconnectBackoff),
            reply: reply
        )
    }

    /// Hands an event to a consumer's state machine and carries out what it answers.
    func consumerEvent(_ tag: String, _ event: (inout ConsumerStateMachine) -> [ConsumerStateMachine.Action]) {
        guard consumers[tag] != nil else { return }
        for action in event(&consumers[tag]!.lifecycle) {
            guard let consumer = consumers[tag] else { return }
            switch action {
            case .answerRegistration(let failure):
                consumer.reply?(failure.map { .failure($0) } ?? .success(()))
                consumers[tag]?.reply = nil
            case .recordFailure(let error):
                mailbox.setConsumerFailure(tag, error)
            case .finishDeliveries:
                consumer.registration.deliveries.finish()
            case .cancelOnBroker:
                sendCancel(consumer, tag: tag)
            case .warnRestartFailed(let error, let attempt):
                logger.warning(
                    "cannot consume again; retrying",
                    metadata: ["amqp.queue": "\(consumer.registration.queue)", "error": "\(error)", "amqp.attempt": "\(attempt)"])
            case .warnCancelledByBroker:
                logger.warning("the broker cancelled a consumer; consuming again", metadata: ["amqp.consumer": "\(tag)"])
            case .remove:
                consumers[tag] = nil
            }
        }
    }

    /// Stops deliveries to a consumer but keeps its channel, so that the deliveries it already has can
    /// still be acknowledged.
    private func sendCancel(_ consumer: Consumer, tag: String) {
        guard let connection else { return }
        amqp_basic_cancel(connection, consumer.channel, arena.bytes(tag))
        arena.reset()
        if case .failure(let error) = check("basic.cancel", channel: consumer.channel), error.code == .connectionLost {
            connectionLost(error)
        }
    }

    func acknowledge(_ acknowledgement: Acknowledgement) {
        guard let connection, let consumer = consumers[acknowledgement.consumerTag],
            consumer.lifecycle.acknowledges(epoch: acknowledgement.epoch)
        else { return }  // The channel that delivered it is gone, and the broker will deliver the message again.
        let status: Int32
        switch acknowledgement.kind {
        case .ack(let multiple):
            status = amqp_basic_ack(connection, consumer.channel, acknowledgement.deliveryTag, multiple ? 1 : 0)
        case .nack(let multiple, let requeue):
            status = amqp_basic_nack(connection, consumer.channel, acknowledgement.deliveryTag, multiple ? 1 : 0, requeue ? 1 : 0)
        case .reject(let requeue):
            status = amqp_basic_reject(connection, consumer.channel, acknowledgement.deliveryTag, requeue ? 1 : 0)
        }
        if status != AMQP_STATUS_OK.rawValue { connectionLost(libraryError(status, "acknowledging a delivery")) }
    }

    /// Starts every consumer whose state machine asks for it.
    func recoverConsumers() {
        let now = ContinuousClock.now
        for tag in consumers.keys where consumers[tag]?.lifecycle.wantsStart(at: now) == true {
            guard connection != nil else { return }
            startConsumer(tag)
        }
    }

    private func startConsumer(_ tag: String) {
        guard let consumer = consumers[tag] else { return }
        defer { arena.reset() }
        let reopened = !openChannels.contains(consumer.channel)
        let result: Result<Void, AMQPError> = {
            if case .failure(let error) = ensureOpen(consumer.channel) { return .failure(error) }
            amqp_basic_qos(connection, consumer.channel, 0, consumer.registration.prefetch, 0)
            if case .failure(let error) = check("basic.qos", channel: consumer.channel) { return .failure(error) }
            amqp_basic_consume(
                connection, consumer.channel, arena.bytes(consumer.registration.queue), arena.bytes(tag), 0, 0, 0, amqp_empty_table
            )
            return check("basic.consume \(consumer.registration.queue)", channel: consumer.channel)
        }()
        switch result {
        case .success:
            // The channel goes on in its epoch if it stayed open since the consumer last consumed on it.
            let epoch: UInt64
            if let kept = consumer.lifecycle.channelEpoch, !reopened {
                epoch = kept
            } else {
                epochCounter += 1
                epoch = epochCounter
            }
            consumerEvent(tag) { $0.started(epoch: epoch) }
            logger.debug("consuming", metadata: ["amqp.queue": "\(consumer.registration.queue)"])
        case .failure(let error) where error.code == .connectionLost:
            connectionLost(error)
        case .failure(let error):
            consumerEvent(tag) { $0.startFailed(error, at: .now) }
        }
    }

    func deliver(_ deliver: amqp_basic_deliver_t, channel: amqp_channel_t) {
        guard let message = readMessage(channel: channel) else { return }
        let tag = String(amqp: deliver.consumer_tag)
        guard let consumer = consumers[tag], let epoch = consumer.lifecycle.deliveryEpoch else {
            // Cancelled meanwhile: hand it back so that another consumer gets it.
            amqp_basic_reject(connection, channel, deliver.delivery_tag, 1)
            return
        }
        consumer.registration.deliveries.yield(
            AMQPDelivery(
                body: message.body, properties: message.properties, exchange: String(amqp: deliver.exchange),
                routingKey: String(amqp: deliver.routing_key), redelivered: deliver.redelivered != 0, deliveryTag: deliver.delivery_tag,
                consumerTag: tag, epoch: epoch, mailbox: mailbox
            )
        )
    }
}
