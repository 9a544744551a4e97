import CAMQPShim
import CRabbitMQ
import DurationUnits
import Foundation
import Glibc
import Logging

/// The owner of one librabbitmq connection, running on its own thread.
///
/// Everything here runs on that thread only; the API side reaches it through the ``Mailbox``.
/// Channel 1 publishes with confirms, channel 2 carries synchronous requests (declare, purge),
/// and each consumer has a channel of its own from 3 up.
final class IOLoop {
    static let publishChannel: amqp_channel_t = 1
    static let requestChannel: amqp_channel_t = 2

    private struct Consumer {
        var registration: ConsumerRegistration
        var channel: amqp_channel_t
        /// Changes whenever the consumer's channel is opened again; stale acknowledgements are dropped.
        var epoch: UInt64 = 0
        var active = false
        /// Cancelled by the application: no more deliveries, but acknowledgements still go out.
        var cancelled = false
        var retryAt: ContinuousClock.Instant = .now
        var failures = 0
        /// The first registration answers its caller; recoveries after that only log.
        var reply: (@Sendable (Result<Void, AMQPError>) -> Void)?
    }

    let configuration: AMQPConfiguration
    let mailbox: Mailbox
    var logger: Logger

    private var connection: amqp_connection_state_t?
    private let arena = CArena()
    private var tracker: PublishTracker
    private var topology = AMQPTopology()
    private var requests: [PendingRequest] = []
    private var consumers: [String: Consumer] = [:]
    private var openChannels: Set<amqp_channel_t> = []
    private var blockedReason: String?
    /// Which node to try next; see ``AddressRotation``.
    private var rotation: AddressRotation
    /// Failed attempts since the last connection, for the log.
    private var reconnectAttempt = 0
    private var nextConnectAttempt = ContinuousClock.now
    private var epochCounter: UInt64 = 0
    private var closeReplies: [@Sendable () -> Void] = []
    private var closeDeadline: ContinuousClock.Instant?
    private var lastReportedFailure: String?
    private var lastFailureReport = ContinuousClock.now - .seconds(3600)

    init(configuration: AMQPConfiguration, mailbox: Mailbox, logger: Logger) {
        self.configuration = configuration
        self.mailbox = mailbox
        self.logger = logger
        self.tracker = PublishTracker(window: configuration.publishWindow)
        self.rotation = AddressRotation(count: configuration.addresses.count)
    }

    /// Starts the thread; it runs until the connection is closed by the application.
    func start() {
        // The loop is handed to the new thread here and never touched by any other thread again.
        nonisolated(unsafe) let loop = self
        let thread = Thread { loop.run() }
        thread.name = "amqp-\(configuration.connectionName)"
        thread.start()
    }

    private func run() {
        while true {
            for command in mailbox.take() { handle(command) }
            if let deadline = closeDeadline, tracker.unconfirmedCount + tracker.waitingCount == 0 || ContinuousClock.now >= deadline {
                shutDown()
                return
            }
            if connection == nil, ContinuousClock.now >= nextConnectAttempt { connect() }
            if connection != nil {
                serveRequests()
                recoverConsumers()
                flushPublishes()
                pumpFrames()
            }
            expire()
            sleep()
        }
    }

    // MARK: Commands

    private func handle(_ command: Command) {
        switch command {
        case .publish(let publish):
            tracker.enqueue(publish)
        case .acknowledge(let acknowledgement):
            acknowledge(acknowledgement)
        case .request(let request):
            requests.append(request)
        case .consume(let registration, let reply):
            guard consumers[registration.tag] == nil else {
                reply(.failure(AMQPError(.invalidConfiguration, "consumer tag \(registration.tag) is in use")))
                return
            }
            consumers[registration.tag] = Consumer(registration: registration, channel: freeConsumerChannel(), reply: reply)
        case .cancel(let tag):
            cancelConsumer(tag)
        case .close(let reply):
            closeReplies.append(reply)
            if closeDeadline == nil {
                closeDeadline = ContinuousClock.now + (connection == nil ? .zero : .seconds(5))
                for command in mailbox.stopAccepting() { handle(command) }
            }
        }
    }

    private func freeConsumerChannel() -> amqp_channel_t {
        let used = Set(consumers.values.map(\.channel))
        return (3...amqp_channel_t.max).first { !used.contains($0) }!
    }

    private func acknowledge(_ acknowledgement: Acknowledgement) {
        guard let connection, let consumer = consumers[acknowledgement.consumerTag], consumer.active,
            consumer.epoch == acknowledgement.epoch
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

    /// Stops deliveries to a consumer but keeps its channel, so that the deliveries it already
    /// has can still be acknowledged (a graceful shutdown acks what committed). The entry goes away
    /// with the connection.
    private func cancelConsumer(_ tag: String) {
        guard var consumer = consumers[tag], !consumer.cancelled else { return }
        mailbox.setConsumerFailure(tag, nil)
        consumer.cancelled = true
        consumers[tag] = consumer
        consumer.registration.deliveries.finish()
        guard let connection, consumer.active else {
            consumers[tag] = nil
            return
        }
        amqp_basic_cancel(connection, consumer.channel, arena.bytes(tag))
        arena.reset()
        if case .failure(let error) = check("basic.cancel", channel: consumer.channel), error.code == .connectionLost {
            connectionLost(error)
        }
    }

    // MARK: Connecting

    private func connect() {
        let state = amqp_new_connection()!
        let address = configuration.addresses[rotation.current]
        do {
            try open(state, at: address)
            connection = state
            rotation.connected()
            reconnectAttempt = 0
            lastReportedFailure = nil
            epochCounter += 1
            logger[metadataKey: "amqp.host"] = "\(address)"
            logger.info("connected to the broker")
            if !topology.exchanges.isEmpty || !topology.queues.isEmpty {
                if case .failure(let error) = declare(topology) {
                    logger.error("declaring the topology again failed", metadata: ["error": "\(error)"])
                    if error.code == .connectionLost { connectionLost(error) }
                }
            }
            mailbox.setConnected(connection != nil)
        } catch {
            amqp_destroy_connection(state)
            scheduleReconnect(after: error, round: rotation.failed())
        }
    }

    private func open(_ state: amqp_connection_state_t, at address: AMQPAddress) throws(AMQPError) {
        guard let socket = amqp_tcp_socket_new(state) else { throw AMQPError(.connectionFailed, "cannot create a socket") }
        var connectTimeout = timeval(configuration.connectTimeout)
        let status = amqp_socket_open_noblock(socket, address.host, Int32(address.port), &connectTimeout)
        guard status == AMQP_STATUS_OK.rawValue else {
            throw AMQPError(.connectionFailed, "cannot connect to \(address): \(errorText(status))")
        }
        var requestTimeout = timeval(configuration.requestTimeout)
        amqp_set_handshake_timeout(state, &connectTimeout)
        amqp_set_rpc_timeout(state, &requestTimeout)

        // Without these capabilities the broker neither tells us that it cancelled a consumer
        // (queue deleted, leader moved) nor that it blocked the connection (memory or disk alarm).
        var clientProperties = arena.table([
            "product": "Orderly",
            "connection_name": .string(configuration.connectionName),
            "capabilities": .table([
                "publisher_confirms": true, "consumer_cancel_notify": true, "connection.blocked": true,
                "basic.nack": true, "authentication_failure_close": true,
            ]),
        ])
        let heartbeat = Int32(clamping: configuration.heartbeat.components.seconds)
        // The handle is ours from here on: a refused login arrives as connection.close, which must be
        // answered on this handle before it is destroyed.
        openChannels = []
        connection = state
        defer { connection = nil }
        let login = orderly_amqp_login_plain(
            state, configuration.virtualHost, 0, 131_072, heartbeat, &clientProperties, configuration.user, configuration.password
        )
        arena.reset()
        do {
            try reply(login, "login", channel: 0).get()
        } catch  where error.replyCode == 403 || error.replyCode == 530 {
            throw AMQPError(
                .refused, replyCode: error.replyCode,
                "the broker refused user '\(configuration.user)' on virtual host '\(configuration.virtualHost)': \(error.message)"
            )
        }
        try openChannel(Self.publishChannel)
        amqp_confirm_select(state, Self.publishChannel)
        try check("confirm.select", channel: Self.publishChannel).get()
        try openChannel(Self.requestChannel)
    }

    private func openChannel(_ channel: amqp_channel_t) throws(AMQPError) {
        amqp_channel_open(connection, channel)
        try check("channel.open", channel: channel).get()
        openChannels.insert(channel)
    }

    /// Opens `channel` again if the broker closed it after an error.
    private func ensureOpen(_ channel: amqp_channel_t) -> Result<Void, AMQPError> {
        guard !openChannels.contains(channel) else { return .success(()) }
        return Result { () throws(AMQPError) in try openChannel(channel) }
    }

    /// Arranges the next attempt: on the next address at once, or after the backoff of `round` once
    /// every address failed (see ``AddressRotation``).
    private func scheduleReconnect(after error: AMQPError, round: Int?) {
        let delay = round.map { configuration.reconnectBackoff.delay(attempt: $0) } ?? .zero
        reconnectAttempt += 1
        nextConnectAttempt = ContinuousClock.now + delay
        mailbox.setConnected(false, error: error)
        // An outage is told once when it starts, when its cause changes, and then about once a minute,
        // not at every attempt. The cause is the kind of failure, not its text, which names the node tried.
        let now = ContinuousClock.now
        let cause = "\(error.code) \(error.replyCode.map(String.init) ?? "")"
        if cause != lastReportedFailure || now - lastFailureReport >= .seconds(60) {
            lastReportedFailure = cause
            lastFailureReport = now
            logger.warning(
                "no connection to the broker", metadata: ["error": "\(error)", "amqp.retry_in": "\(delay)", "amqp.attempt": "\(reconnectAttempt)"])
        }
    }

    /// Tears down a broken connection and arranges for everything to be restored on the next one.
    private func connectionLost(_ error: AMQPError) {
        guard let state = connection else { return }
        logger.warning("lost the connection to the broker", metadata: ["error": "\(error)"])
        amqp_destroy_connection(state)
        connection = nil
        openChannels = []
        blockedReason = nil
        tracker.connectionLost()
        consumers = consumers.filter { !$0.value.cancelled }
        for tag in consumers.keys { consumers[tag]!.active = false }
        for request in requests { request.reply(.failure(error)) }
        requests = []
        scheduleReconnect(after: error, round: rotation.lost())
    }

    // MARK: Requests and consumers

    private func serveRequests() {
        while connection != nil, !requests.isEmpty {
            let request = requests.removeFirst()
            let outcome = serve(request.method)
            if case .failure(let error) = outcome, error.code == .connectionLost {
                requests.insert(request, at: 0)  // Failed with the rest on the way out.
                connectionLost(error)
                return
            }
            request.reply(outcome)
        }
    }

    private func serve(_ method: PendingRequest.Method) -> Result<PendingRequest.Outcome, AMQPError> {
        defer { arena.reset() }
        if case .failure(let error) = ensureOpen(Self.requestChannel) { return .failure(error) }
        let channel = Self.requestChannel
        switch method {
        case .declare(let declared):
            return declare(declared).map {
                topology = topology.merging(declared)
                return .done
            }
        case .declareOnce(let declared):
            return declare(declared).map { .done }
        case .exchangeExists(let exchange):
            amqp_exchange_declare(connection, channel, arena.bytes(exchange), arena.bytes(""), 1, 0, 0, 0, amqp_empty_table)
            return check("exchange.declare \(exchange)", channel: channel).map { .done }
        case .queueStatus(let queue):
            let ok = amqp_queue_declare(connection, channel, arena.bytes(queue), 1, 0, 0, 0, amqp_empty_table)
            return check("queue.declare", channel: channel).map {
                .status(AMQPQueueStatus(messageCount: ok!.pointee.message_count, consumerCount: ok!.pointee.consumer_count))
            }
        case .purgeQueue(let queue):
            let ok = amqp_queue_purge(connection, channel, arena.bytes(queue))
            return check("queue.purge", channel: channel).map { .count(ok!.pointee.message_count) }
        case .deleteQueue(let queue):
            amqp_queue_delete(connection, channel, arena.bytes(queue), 0, 0)
            topology.queues.removeAll { $0.name == queue }
            topology.bindings.removeAll { $0.queue == queue }
            return check("queue.delete", channel: channel).map { .done }
        case .deleteExchange(let exchange):
            amqp_exchange_delete(connection, channel, arena.bytes(exchange), 0)
            topology.exchanges.removeAll { $0.name == exchange }
            topology.bindings.removeAll { $0.exchange == exchange }
            return check("exchange.delete", channel: channel).map { .done }
        }
    }

    private func declare(_ topology: AMQPTopology) -> Result<Void, AMQPError> {
        let channel = Self.requestChannel
        defer { arena.reset() }
        for exchange in topology.exchanges {
            amqp_exchange_declare(
                connection, channel, arena.bytes(exchange.name), arena.bytes(exchange.type), 0, exchange.durable ? 1 : 0, 0, 0,
                arena.table(exchange.arguments)
            )
            if case .failure(let error) = check("exchange.declare \(exchange.name)", channel: channel) { return .failure(error) }
        }
        for queue in topology.queues {
            amqp_queue_declare(
                connection, channel, arena.bytes(queue.name), 0, queue.durable ? 1 : 0, queue.exclusive ? 1 : 0, queue.autoDelete ? 1 : 0,
                arena.table(queue.arguments)
            )
            if case .failure(let error) = check("queue.declare \(queue.name)", channel: channel) { return .failure(error) }
        }
        for binding in topology.bindings {
            amqp_queue_bind(
                connection, channel, arena.bytes(binding.queue), arena.bytes(binding.exchange), arena.bytes(binding.routingKey),
                arena.table(binding.arguments)
            )
            if case .failure(let error) = check("queue.bind \(binding.queue)", channel: channel) { return .failure(error) }
        }
        return .success(())
    }

    private func recoverConsumers() {
        let now = ContinuousClock.now
        for tag in consumers.keys where !consumers[tag]!.active && !consumers[tag]!.cancelled && consumers[tag]!.retryAt <= now {
            guard connection != nil else { return }
            startConsumer(tag)
        }
    }

    private func startConsumer(_ tag: String) {
        var consumer = consumers[tag]!
        defer { arena.reset() }
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
            epochCounter += 1
            consumer.epoch = epochCounter
            consumer.active = true
            consumer.failures = 0
            consumer.reply?(.success(()))
            consumer.reply = nil
            consumers[tag] = consumer
            mailbox.setConsumerFailure(tag, nil)
            logger.debug("consuming", metadata: ["amqp.queue": "\(consumer.registration.queue)"])
        case .failure(let error) where error.code == .connectionLost:
            connectionLost(error)
        case .failure(let error):
            if let reply = consumer.reply {
                // The first registration fails for its caller, who can see and fix the cause.
                consumers[tag] = nil
                consumer.registration.deliveries.finish()
                reply(.failure(error))
                return
            }
            consumer.retryAt = ContinuousClock.now + configuration.reconnectBackoff.delay(attempt: consumer.failures)
            consumer.failures += 1
            consumers[tag] = consumer
            mailbox.setConsumerFailure(tag, error)
            // Told at the first failure and then about once a minute, however short the backoff.
            if consumer.failures == 1 || consumer.failures % 12 == 0 {
                logger.warning(
                    "cannot consume again; retrying",
                    metadata: ["amqp.queue": "\(consumer.registration.queue)", "error": "\(error)", "amqp.attempt": "\(consumer.failures)"])
            }
        }
    }

    // MARK: Publishing

    private func flushPublishes() {
        guard let connection, blockedReason == nil, openChannels.contains(Self.publishChannel) else { return }
        while let publish = tracker.next() {
            var properties = arena.properties(publish.message.properties)
            let status = publish.message.body.withUnsafeBytes { body in
                amqp_basic_publish(
                    connection, Self.publishChannel, arena.bytes(publish.exchange), arena.bytes(publish.routingKey),
                    publish.mandatory ? 1 : 0, 0, &properties,
                    amqp_bytes_t(len: body.count, bytes: UnsafeMutableRawPointer(mutating: body.baseAddress))
                )
            }
            arena.reset()
            if status != AMQP_STATUS_OK.rawValue {
                connectionLost(libraryError(status, "publishing"))
                return
            }
        }
    }

    private func expire() {
        let now = ContinuousClock.now
        let blocked = blockedReason
        for settlement in tracker.expire(
            now: now,
            error: { _ in
                if let blocked { return AMQPError(.blocked, "the broker blocked publishing for longer than the publish timeout: \(blocked)") }
                return AMQPError(.timeout, "no confirm from the broker within \(self.configuration.publishTimeout)")
            })
        {
            settlement()
        }
        requests.removeAll { request in
            guard request.deadline <= now else { return false }
            request.reply(.failure(AMQPError(.timeout, "no connection to the broker within \(configuration.requestTimeout)")))
            return true
        }
    }

    // MARK: Incoming frames

    private func pumpFrames() {
        var frame = amqp_frame_t()
        var immediately = timeval(tv_sec: 0, tv_usec: 0)
        for _ in 0..<4096 {
            guard let connection else { return }
            let status = amqp_simple_wait_frame_noblock(connection, &frame, &immediately)
            if status == AMQP_STATUS_TIMEOUT.rawValue { break }
            guard status == AMQP_STATUS_OK.rawValue else {
                connectionLost(libraryError(status, "waiting for frames"))
                return
            }
            if frame.frame_type == AMQP_FRAME_METHOD { handleMethod(frame.payload.method, channel: frame.channel) }
        }
        if let connection { amqp_maybe_release_buffers(connection) }
    }

    private func handleMethod(_ method: amqp_method_t, channel: amqp_channel_t) {
        switch method.id {
        case orderly_method_basic_ack:
            let ack = method.decoded.load(as: amqp_basic_ack_t.self)
            for settlement in tracker.settle(tag: ack.delivery_tag, multiple: ack.multiple != 0) { settlement() }
        case orderly_method_basic_nack:
            let nack = method.decoded.load(as: amqp_basic_nack_t.self)
            let error = AMQPError(.nacked, "the broker refused the message")
            for settlement in tracker.settle(tag: nack.delivery_tag, multiple: nack.multiple != 0, error: error) { settlement() }
        case orderly_method_basic_deliver:
            deliver(method.decoded.load(as: amqp_basic_deliver_t.self), channel: channel)
        case orderly_method_basic_return:
            returned(method.decoded.load(as: amqp_basic_return_t.self), channel: channel)
        case orderly_method_basic_cancel:
            let tag = String(amqp: method.decoded.load(as: amqp_basic_cancel_t.self).consumer_tag)
            guard consumers[tag]?.cancelled == false else { return }
            logger.warning("the broker cancelled a consumer; consuming again", metadata: ["amqp.consumer": "\(tag)"])
            consumers[tag]?.active = false
            consumers[tag]?.retryAt = ContinuousClock.now + configuration.reconnectBackoff.initial
        case orderly_method_channel_close:
            let close = method.decoded.load(as: amqp_channel_close_t.self)
            var ok = amqp_channel_close_ok_t()
            amqp_send_method(connection, channel, orderly_method_channel_close_ok, &ok)
            channelClosed(channel, AMQPError(.channelClosed, replyCode: close.reply_code, String(amqp: close.reply_text)))
        case orderly_method_connection_close:
            let close = method.decoded.load(as: amqp_connection_close_t.self)
            var ok = amqp_connection_close_ok_t()
            amqp_send_method(connection, 0, orderly_method_connection_close_ok, &ok)
            connectionLost(AMQPError(.connectionLost, replyCode: close.reply_code, String(amqp: close.reply_text)))
        case orderly_method_connection_blocked:
            blockedReason = String(amqp: method.decoded.load(as: amqp_connection_blocked_t.self).reason)
            logger.warning("the broker blocked publishing", metadata: ["reason": "\(blockedReason!)"])
        case orderly_method_connection_unblocked:
            blockedReason = nil
            logger.info("the broker unblocked publishing")
        default:
            logger.debug("ignored an AMQP method", metadata: ["amqp.method": "\(method.id)", "amqp.channel": "\(channel)"])
        }
    }

    private func deliver(_ deliver: amqp_basic_deliver_t, channel: amqp_channel_t) {
        guard let message = readMessage(channel: channel) else { return }
        let tag = String(amqp: deliver.consumer_tag)
        guard let consumer = consumers[tag], consumer.active, !consumer.cancelled else {
            // Cancelled meanwhile: hand it back so that another consumer gets it.
            amqp_basic_reject(connection, channel, deliver.delivery_tag, 1)
            return
        }
        consumer.registration.deliveries.yield(
            AMQPDelivery(
                body: message.body, properties: message.properties, exchange: String(amqp: deliver.exchange),
                routingKey: String(amqp: deliver.routing_key), redelivered: deliver.redelivered != 0, deliveryTag: deliver.delivery_tag,
                consumerTag: tag, epoch: consumer.epoch, mailbox: mailbox
            )
        )
    }

    private func returned(_ returned: amqp_basic_return_t, channel: amqp_channel_t) {
        let exchange = String(amqp: returned.exchange)
        let routingKey = String(amqp: returned.routing_key)
        let replyText = String(amqp: returned.reply_text)
        guard let message = readMessage(channel: channel) else { return }
        tracker.markReturned(
            exchange: exchange, routingKey: routingKey, messageID: message.properties.messageID,
            error: AMQPError(.unroutable, replyCode: returned.reply_code, "\(replyText): no queue for '\(routingKey)' on '\(exchange)'")
        )
    }

    /// Reads the header and body frames that follow a `basic.deliver` or `basic.return`.
    private func readMessage(channel: amqp_channel_t) -> (body: [UInt8], properties: AMQPProperties)? {
        var message = amqp_message_t()
        let reply = amqp_read_message(connection, channel, &message, 0)
        defer { amqp_destroy_message(&message) }
        if case .failure(let error) = self.reply(reply, "reading a message", channel: channel) {
            connectionLost(error)
            return nil
        }
        return ([UInt8](amqp: message.body), AMQPProperties(amqp: message.properties))
    }

    private func channelClosed(_ channel: amqp_channel_t, _ error: AMQPError) {
        openChannels.remove(channel)
        logger.warning("the broker closed a channel", metadata: ["amqp.channel": "\(channel)", "error": "\(error)"])
        if channel == Self.publishChannel {
            // A publish to a missing exchange, or one the user may not write to, closes the channel.
            // Fail the messages it names (the broker calls the default exchange 'amq.default'); the
            // others were unlucky bystanders and go out again on a new channel.
            for settlement in tracker.channelLost(failing: { publish in
                error.message.contains("'\(publish.exchange.isEmpty ? "amq.default" : publish.exchange)'") ? error : nil
            }) { settlement() }
            do {
                try openChannel(Self.publishChannel)
                amqp_confirm_select(connection, Self.publishChannel)
                try check("confirm.select", channel: Self.publishChannel).get()
            } catch {
                connectionLost(error)
            }
        } else if let tag = consumers.first(where: { $0.value.channel == channel })?.key {
            guard !consumers[tag]!.cancelled else {
                consumers[tag] = nil
                return
            }
            consumers[tag]!.active = false
            consumers[tag]!.retryAt = ContinuousClock.now + configuration.reconnectBackoff.initial
        }
    }

    // MARK: Waiting

    private func sleep() {
        if let connection, amqp_frames_enqueued(connection) != 0 || amqp_data_in_buffer(connection) != 0 { return }
        if connection != nil, blockedReason == nil, tracker.canSend { return }
        guard mailbox.prepareToSleep() else { return }
        defer { mailbox.didWake() }
        var wakeAt = ContinuousClock.now + .milliseconds(200)
        if connection == nil { wakeAt = min(wakeAt, nextConnectAttempt) }
        if let deadline = tracker.earliestDeadline { wakeAt = min(wakeAt, deadline) }
        if let deadline = closeDeadline { wakeAt = min(wakeAt, deadline) }
        let milliseconds = Int32(clamping: max(0, Int64(((wakeAt - ContinuousClock.now).seconds * 1000).rounded(.up))))
        var descriptors = [pollfd(fd: mailbox.wakeDescriptor, events: Int16(POLLIN), revents: 0)]
        if let connection { descriptors.append(pollfd(fd: amqp_get_sockfd(connection), events: Int16(POLLIN), revents: 0)) }
        _ = poll(&descriptors, nfds_t(descriptors.count), milliseconds)
    }

    // MARK: Shutting down

    private func shutDown() {
        let closed = AMQPError(.closed, "the connection was closed")
        for settlement in tracker.failAll(closed) { settlement() }
        for request in requests { request.reply(.failure(closed)) }
        requests = []
        for consumer in consumers.values { consumer.registration.deliveries.finish() }
        consumers = [:]
        if let connection {
            amqp_connection_close(connection, AMQP_REPLY_SUCCESS)
            amqp_destroy_connection(connection)
            self.connection = nil
        }
        mailbox.setConnected(false, error: closed)
        logger.info("closed the connection to the broker")
        for reply in closeReplies { reply() }
    }

    // MARK: Errors

    /// The outcome of the last synchronous method on `channel`.
    private func check(_ what: String, channel: amqp_channel_t) -> Result<Void, AMQPError> {
        reply(amqp_get_rpc_reply(connection), what, channel: channel)
    }

    /// Turns a librabbitmq reply into a result, answering the broker's close so the channel or
    /// connection can be used (or replaced) afterwards.
    private func reply(_ reply: amqp_rpc_reply_t, _ what: String, channel: amqp_channel_t) -> Result<Void, AMQPError> {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return .success(())
        case AMQP_RESPONSE_SERVER_EXCEPTION where reply.reply.id == orderly_method_channel_close:
            let close = reply.reply.decoded.load(as: amqp_channel_close_t.self)
            var ok = amqp_channel_close_ok_t()
            amqp_send_method(connection, channel, orderly_method_channel_close_ok, &ok)
            openChannels.remove(channel)
            return .failure(AMQPError(.channelClosed, replyCode: close.reply_code, "\(what): \(String(amqp: close.reply_text))"))
        case AMQP_RESPONSE_SERVER_EXCEPTION where reply.reply.id == orderly_method_connection_close:
            let close = reply.reply.decoded.load(as: amqp_connection_close_t.self)
            var ok = amqp_connection_close_ok_t()
            amqp_send_method(connection, 0, orderly_method_connection_close_ok, &ok)
            return .failure(AMQPError(.connectionLost, replyCode: close.reply_code, "\(what): \(String(amqp: close.reply_text))"))
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            return .failure(libraryError(-reply.library_error, what))
        default:
            return .failure(AMQPError(.connectionLost, "\(what): unexpected reply from the broker"))
        }
    }

    private func libraryError(_ status: Int32, _ what: String) -> AMQPError {
        AMQPError(.connectionLost, "\(what): \(errorText(status))")
    }

    private func errorText(_ status: Int32) -> String {
        String(cString: amqp_error_string2(status))
    }
}

extension timeval {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self.init(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}
