import Foundation
import Logging
import Synchronization

/// A connection to RabbitMQ over librabbitmq, safe to use from any task.
///
/// The C connection lives on a dedicated thread of its own ("I/O thread"), which is the only
/// thread that ever touches it: librabbitmq handles may not be shared between threads, and its
/// calls block, so they must stay off the cooperative pool. Callers hand commands to that thread
/// and await the outcome.
///
/// The connection heals itself. A lost connection (broker restart, socket error, missed
/// heartbeats, `connection.close`) is noticed within two heartbeat intervals at most; the client then
/// reconnects — to the next node of ``AMQPConfiguration/addresses`` at once, and with backoff and
/// jitter once every node failed in a row — declares again the topology it was asked to declare,
/// registers its consumers again, and publishes again every message the broker had not
/// confirmed. Publishing is therefore at-least-once: a message can reach the broker twice, never
/// zero times without its `publish` call failing.
public final class AMQPConnection: Sendable {
    /// The settings this connection was made with.
    public let configuration: AMQPConfiguration
    let mailbox: Mailbox
    private let logger: Logger
    private let tagCounter = Atomic<Int>(0)

    private init(configuration: AMQPConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.mailbox = Mailbox()
    }

    /// Starts a connection and waits until it is established.
    ///
    /// - Parameters:
    ///   - configuration: where the broker is, how to log in, and how to recover.
    ///   - logger: where the connection reports its recoveries and failures.
    ///   - timeout: how long to keep trying before giving up; connection attempts are repeated with backoff
    ///     until then.
    /// - Throws: ``AMQPError`` with the last failure when no connection could be made in time.
    public static func connect(
        configuration: AMQPConfiguration,
        logger: Logger,
        waitUpTo timeout: Duration = .seconds(10)
    ) async throws -> AMQPConnection {
        let connection = start(configuration: configuration, logger: logger)
        do {
            try await connection.waitUntilConnected(timeout: timeout)
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }

    /// Connects, runs `body` with the connection, and closes it whether `body` returns or throws.
    ///
    /// For short jobs (a command-line call, a check in a test); services keep one connection for their lifetime.
    public static func withConnection<T>(
        configuration: AMQPConfiguration,
        logger: Logger,
        _ body: (AMQPConnection) async throws -> T
    ) async throws -> T {
        let connection = try await connect(configuration: configuration, logger: logger)
        do {
            let result = try await body(connection)
            await connection.close()
            return result
        } catch {
            await connection.close()
            throw error
        }
    }

    /// Starts a connection without waiting for it: it connects, and reconnects, in the background.
    ///
    /// Commands sent before the connection is up wait for it (publishes up to their timeout).
    /// Call ``close()`` to stop its thread.
    public static func start(configuration: AMQPConfiguration, logger: Logger) -> AMQPConnection {
        var logger = logger
        // The node it is connected to, once it is; until then every node it may try.
        logger[metadataKey: "amqp.host"] = "\(configuration.addresses.map(\.description).joined(separator: ","))"
        let connection = AMQPConnection(configuration: configuration, logger: logger)
        IOLoop(configuration: configuration, mailbox: connection.mailbox, logger: logger).start()
        return connection
    }

    /// Whether the connection to the broker is up right now.
    public var isConnected: Bool { mailbox.connection.connected }

    /// Why the connection is down, while it is: the last failure to connect or the loss of the connection.
    /// `nil` while connected.
    public var lastError: AMQPError? {
        let (connected, lastError) = mailbox.connection
        return connected ? nil : lastError
    }

    /// Waits until the connection is up.
    ///
    /// A refusal by the broker (wrong credentials, unknown virtual host) ends the wait at once: the
    /// connection keeps trying in the background, but waiting will not make it succeed.
    ///
    /// - Throws: ``AMQPError`` `.refused` as soon as the broker refused the login; `.connectionFailed`
    ///   with the last failure once `timeout` has passed.
    public func waitUntilConnected(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (connected, lastError) = mailbox.connection
            if connected { return }
            if let lastError, lastError.code == .refused { throw lastError }
            if ContinuousClock.now >= deadline {
                throw AMQPError(.connectionFailed, lastError?.message ?? "no connection to the broker within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    // MARK: Publishing

    /// Publishes a message and returns once the broker has confirmed it.
    ///
    /// With `mandatory`, a message that no queue receives fails with `.unroutable` instead of being
    /// dropped by the broker. Messages are sent in the order of the calls; at most
    /// `publishWindow` are unconfirmed at a time, and the rest wait their turn.
    ///
    /// - Throws: ``AMQPError``: `.unroutable`, `.nacked`, `.channelClosed` when the exchange is missing
    ///   (404) or the user may not write to it (403), `.blocked` when the broker blocked the
    ///   connection for longer than `publishTimeout`, `.timeout` when no confirm came in time (the
    ///   message may still have arrived), `.closed`.
    public func publish(
        _ message: AMQPMessage, exchange: String, routingKey: String, mandatory: Bool = true, timeout: Duration? = nil
    ) async throws {
        let deadline = ContinuousClock.now + (timeout ?? configuration.publishTimeout)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            let publish = PendingPublish(
                message: message, exchange: exchange, routingKey: routingKey, mandatory: mandatory, deadline: deadline,
                completion: { continuation.resume(with: $0.mapError { $0 as Error }) }
            )
            if !mailbox.post(.publish(publish)) {
                continuation.resume(throwing: AMQPError(.closed, "the connection is closed"))
            }
        }
    }

    /// A message and where to publish it, for ``AMQPConnection/publish(_:timeout:)``.
    public struct Publication: Sendable {
        public var message: AMQPMessage
        public var exchange: String
        public var routingKey: String
        public var mandatory: Bool

        public init(_ message: AMQPMessage, exchange: String, routingKey: String, mandatory: Bool = true) {
            self.message = message
            self.exchange = exchange
            self.routingKey = routingKey
            self.mandatory = mandatory
        }
    }

    /// Publishes several messages in order and returns each one's outcome once all are settled.
    ///
    /// Cheaper than one `publish` call per message: one hand-over to the I/O thread and one
    /// wake-up for the whole batch.
    ///
    /// - Parameters:
    ///   - batch: the messages, published in this order.
    ///   - timeout: how long the batch may wait for the window, a reconnect or the confirms; `publishTimeout`
    ///     when `nil`. Messages not confirmed by then fail with `.timeout` (they may still have reached the broker).
    public func publish(_ batch: [Publication], timeout: Duration? = nil) async -> [Result<Void, AMQPError>] {
        guard !batch.isEmpty else { return [] }
        let deadline = ContinuousClock.now + (timeout ?? configuration.publishTimeout)
        return await withCheckedContinuation { (continuation: CheckedContinuation<[Result<Void, AMQPError>], Never>) in
            let collector = BatchCollector(count: batch.count, continuation: continuation)
            for (index, item) in batch.enumerated() {
                let publish = PendingPublish(
                    message: item.message, exchange: item.exchange, routingKey: item.routingKey, mandatory: item.mandatory,
                    deadline: deadline, completion: { collector.settle(index, $0) }
                )
                if !mailbox.post(.publish(publish)) { collector.settle(index, .failure(AMQPError(.closed, "the connection is closed"))) }
            }
        }
    }

    // MARK: Consuming

    /// Starts consuming `queue` with manual acknowledgements and at most `prefetch` unacknowledged deliveries.
    ///
    /// - Throws: ``AMQPError`` `.channelClosed` with reply code 404 when the queue does not exist.
    public func consume(queue: String, prefetch: UInt16 = 32, tag: String? = nil) async throws -> AMQPConsumer {
        let tag = tag ?? "\(configuration.connectionName).\(queue).\(tagCounter.add(1, ordering: .relaxed).newValue)"
        let (stream, continuation) = AsyncStream.makeStream(of: AMQPDelivery.self, bufferingPolicy: .unbounded)
        let registration = ConsumerRegistration(queue: queue, prefetch: prefetch, tag: tag, deliveries: continuation)
        try await withCheckedThrowingContinuation { (reply: CheckedContinuation<Void, Error>) in
            if !mailbox.post(.consume(registration, reply: { reply.resume(with: $0.mapError { $0 as Error }) })) {
                reply.resume(throwing: AMQPError(.closed, "the connection is closed"))
            }
        }
        let box = mailbox
        continuation.onTermination = { @Sendable _ in box.post(.cancel(consumerTag: tag)) }
        return AMQPConsumer(tag: tag, deliveries: stream, mailbox: mailbox)
    }

    // MARK: Topology and queues

    /// Declares exchanges, queues and bindings, and remembers them to declare again after a reconnect.
    ///
    /// - Throws: ``AMQPError`` `.channelClosed` with the broker's reply code when a declaration
    ///   conflicts with what exists (406 PRECONDITION_FAILED for different queue arguments).
    public func declare(_ topology: AMQPTopology) async throws {
        _ = try await request(.declare(topology))
    }

    /// Declares exchanges, queues and bindings once, without recording them: a reconnect does not declare them again.
    ///
    /// For checking that what exists is as declared: the broker answers a declaration that differs from what
    /// exists with 406 PRECONDITION_FAILED, naming the argument. What does not exist is created, so check
    /// existence first (``status(ofQueue:)``, ``checkExchange(_:)``).
    ///
    /// - Throws: ``AMQPError`` `.channelClosed` with the broker's reply code, as ``declare(_:)``.
    public func declareOnce(_ topology: AMQPTopology) async throws {
        _ = try await request(.declareOnce(topology))
    }

    /// Checks that an exchange exists (a passive `exchange.declare`), changing nothing.
    ///
    /// - Throws: ``AMQPError`` `.channelClosed` with reply code 404 when it does not exist.
    public func checkExchange(_ exchange: String) async throws {
        _ = try await request(.exchangeExists(exchange))
    }

    /// The number of ready messages and consumers of a queue.
    public func status(ofQueue queue: String) async throws -> AMQPQueueStatus {
        guard case .status(let status) = try await request(.queueStatus(queue)) else { preconditionFailure("queue.declare-ok expected") }
        return status
    }

    /// Removes every ready message from a queue; returns how many there were.
    @discardableResult
    public func purge(queue: String) async throws -> UInt32 {
        guard case .count(let count) = try await request(.purgeQueue(queue)) else { preconditionFailure("queue.purge-ok expected") }
        return count
    }

    /// Deletes a queue and forgets its declaration.
    public func delete(queue: String) async throws { _ = try await request(.deleteQueue(queue)) }

    /// Deletes an exchange and forgets its declaration.
    public func delete(exchange: String) async throws { _ = try await request(.deleteExchange(exchange)) }

    private func request(_ method: PendingRequest.Method) async throws -> PendingRequest.Outcome {
        let deadline = ContinuousClock.now + configuration.requestTimeout
        return try await withCheckedThrowingContinuation { continuation in
            let request = PendingRequest(method: method, deadline: deadline) { continuation.resume(with: $0.mapError { $0 as Error }) }
            if !mailbox.post(.request(request)) { continuation.resume(throwing: AMQPError(.closed, "the connection is closed")) }
        }
    }

    // MARK: Closing

    /// Closes the connection: waits briefly for unconfirmed publishes, ends consumers, stops the thread.
    ///
    /// Acknowledgements sent before `close()` reach the broker first. Idempotent.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            if !mailbox.post(.close(reply: { continuation.resume() })) { continuation.resume() }
        }
    }
}

/// Gathers the outcomes of a batch of publishes, settled one by one on the I/O thread.
private final class BatchCollector: Sendable {
    private let state: Mutex<(results: [Result<Void, AMQPError>?], remaining: Int)>
    private let continuation: CheckedContinuation<[Result<Void, AMQPError>], Never>

    init(count: Int, continuation: CheckedContinuation<[Result<Void, AMQPError>], Never>) {
        state = Mutex((Array(repeating: nil, count: count), count))
        self.continuation = continuation
    }

    func settle(_ index: Int, _ result: Result<Void, AMQPError>) {
        let finished = state.withLock { state -> [Result<Void, AMQPError>]? in
            guard state.results[index] == nil else { return nil }
            state.results[index] = result
            state.remaining -= 1
            return state.remaining == 0 ? state.results.map { $0! } : nil
        }
        if let finished { continuation.resume(returning: finished) }
    }
}
