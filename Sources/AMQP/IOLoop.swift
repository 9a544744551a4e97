import CAMQPShim
import CRabbitMQ
import Foundation
import Glibc
import Logging

/// The owner of one librabbitmq connection, running on its own thread.
///
/// Everything here runs on that thread only; the API side reaches it through the ``Mailbox``.
/// Channel 1 publishes with confirms, channel 2 carries synchronous requests (declare, purge),
/// and each consumer has a channel of its own from 3 up.
///
/// What happens to the connection and to each consumer is decided by value types with no I/O,
/// ``ConnectionStateMachine`` and ``ConsumerStateMachine``; the loop feeds them what it sees and
/// carries out what they answer. Its features sit in extensions: requests (`IOLoop+Requests`),
/// consumers (`IOLoop+Consumers`), publishing (`IOLoop+Publishing`) and the frames the broker
/// sends (`IOLoop+Frames`).
final class IOLoop {
    static let publishChannel: amqp_channel_t = 1
    static let requestChannel: amqp_channel_t = 2

    let configuration: AMQPConfiguration
    let mailbox: Mailbox
    var logger: Logger
    let arena = CArena()

    /// The librabbitmq handle, while connected (and during the handshake).
    var connection: amqp_connection_state_t?
    var link: ConnectionStateMachine
    var openChannels: Set<amqp_channel_t> = []
    var tracker: PublishTracker
    /// What the application declared, to declare again on every new connection.
    var topology = AMQPTopology()
    var requests: [PendingRequest] = []
    var consumers: [String: Consumer] = [:]
    /// Numbers the channel incarnations consumers start on; see ``ConsumerStateMachine``.
    var epochCounter: UInt64 = 0
    var closeReplies: [@Sendable () -> Void] = []

    init(configuration: AMQPConfiguration, mailbox: Mailbox, logger: Logger) {
        self.configuration = configuration
        self.mailbox = mailbox
        self.logger = logger
        self.tracker = PublishTracker(window: configuration.publishWindow)
        self.link = ConnectionStateMachine(addressCount: configuration.addresses.count, backoff: configuration.reconnectBackoff)
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
            let now = ContinuousClock.now
            if link.shouldShutDown(unsettled: tracker.unconfirmedCount + tracker.waitingCount, at: now) {
                shutDown()
                return
            }
            if let address = link.addressToTry(at: now) { connect(to: configuration.addresses[address]) }
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
            register(registration, reply: reply)
        case .cancel(let tag):
            consumerEvent(tag) { $0.cancel() }
        case .close(let reply):
            closeReplies.append(reply)
            if link.closeRequested(at: .now) {
                for command in mailbox.stopAccepting() { handle(command) }
            }
        }
    }

    // MARK: Connecting

    private func connect(to address: AMQPAddress) {
        let state = amqp_new_connection()!
        do {
            try open(state, at: address)
        } catch {
            amqp_destroy_connection(state)
            announceOutage(error, link.connectFailed(error, at: .now))
            return
        }
        connection = state
        link.connected()
        logger[metadataKey: "amqp.host"] = "\(address)"
        logger.info("connected to the broker")
        if !topology.exchanges.isEmpty || !topology.queues.isEmpty {
            if case .failure(let error) = declare(topology) {
                logger.error("declaring the topology again failed", metadata: ["error": "\(error)"])
                if error.code == .connectionLost { connectionLost(error) }
            }
        }
        mailbox.setConnected(connection != nil)
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

    func openChannel(_ channel: amqp_channel_t) throws(AMQPError) {
        amqp_channel_open(connection, channel)
        try check("channel.open", channel: channel).get()
        openChannels.insert(channel)
    }

    /// Opens `channel` again if the broker closed it after an error.
    func ensureOpen(_ channel: amqp_channel_t) -> Result<Void, AMQPError> {
        guard !openChannels.contains(channel) else { return .success(()) }
        return Result { () throws(AMQPError) in try openChannel(channel) }
    }

    /// Tells the connection's readers that it is down and, as ``ConnectionStateMachine`` decides, the log.
    private func announceOutage(_ error: AMQPError, _ reconnect: ConnectionStateMachine.Reconnect) {
        mailbox.setConnected(false, error: error)
        guard reconnect.report else { return }
        logger.warning(
            "no connection to the broker",
            metadata: ["error": "\(error)", "amqp.retry_in": "\(reconnect.delay)", "amqp.attempt": "\(reconnect.attempt)"])
    }

    /// Tears down a broken connection and arranges for everything to be restored on the next one.
    func connectionLost(_ error: AMQPError) {
        guard let state = connection else { return }
        logger.warning("lost the connection to the broker", metadata: ["error": "\(error)"])
        amqp_destroy_connection(state)
        connection = nil
        openChannels = []
        tracker.connectionLost()
        let now = ContinuousClock.now
        for tag in consumers.keys { consumerEvent(tag) { $0.connectionLost(at: now) } }
        for request in requests { request.reply(.failure(error)) }
        requests = []
        if let reconnect = link.connectionLost(error, at: now) { announceOutage(error, reconnect) }
    }

    // MARK: Waiting

    private func sleep() {
        if let connection, amqp_frames_enqueued(connection) != 0 || amqp_data_in_buffer(connection) != 0 { return }
        if link.canPublish, tracker.canSend { return }
        guard mailbox.prepareToSleep() else { return }
        defer { mailbox.didWake() }
        var wakeAt = ContinuousClock.now + .milliseconds(200)
        if let deadline = link.nextDeadline { wakeAt = min(wakeAt, deadline) }
        if let deadline = tracker.earliestDeadline { wakeAt = min(wakeAt, deadline) }
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
        link.shutDown()
        mailbox.setConnected(false, error: closed)
        logger.info("closed the connection to the broker")
        for reply in closeReplies { reply() }
    }
}

extension timeval {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self.init(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}
