import Synchronization

/// A message sent with `NOTIFY channel, 'payload'` (or `pg_notify`) to a channel this client listens on.
public struct PostgresNotification: Sendable, Hashable {
    /// The channel the notification was sent to.
    public var channel: String
    /// The payload; empty when none was given.
    public var payload: String
    /// The server process id of the session that sent it.
    public var backendPID: Int32

    /// Creates a notification (the client builds these; public for tests of consumers).
    public init(channel: String, payload: String, backendPID: Int32) {
        self.channel = channel
        self.payload = payload
        self.backendPID = backendPID
    }
}

extension PostgresConnection {
    /// Listens on the channels and delivers their notifications as a stream until the consumer stops iterating.
    ///
    /// After `LISTEN` succeeds for every channel, a background task repeatedly submits a short wait to the
    /// connection's thread (`poll` on `PQsocket` for up to 250 ms, then `PQconsumeInput` and `PQnotifies`), so the
    /// waiting happens on that thread, never on the cooperative pool. Other statements may still run on the
    /// connection between waits (they are delayed by at most one wait), but a connection of its own, not one from
    /// a pool, is the intended use.
    ///
    /// Notifications are only delivered while listening: ones sent while the connection is down are lost, so
    /// treat a notification as a hint to look at the table, not as the data itself.
    ///
    /// - Throws: the server's error if a `LISTEN` fails. The stream ends with ``PostgresError/Code/connectionLost``
    ///   when the connection breaks; open a new connection and listen again.
    public func listen(to channels: [String]) async throws -> AsyncThrowingStream<PostgresNotification, any Error> {
        for channel in channels {
            try await execute("LISTEN \(identifier: channel)")
        }
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: PostgresNotification.self)
        let stopped = StopFlag()
        continuation.onTermination = { _ in stopped.stop() }
        let logger = self.logger
        Task.detached { [self] in
            // One job per wait, so a stopped stream frees the thread within one poll interval.
            while !stopped.isStopped {
                do {
                    let notifications = try await awaitNotifications(timeoutMilliseconds: 250)
                    for notification in notifications { continuation.yield(notification) }
                } catch {
                    logger.debug("postgres listener stopped", metadata: ["error": "\(error)"])
                    continuation.finish(throwing: error)
                    return
                }
            }
            continuation.finish()
        }
        return stream
    }
}

/// Set once the consumer of a notification stream is gone.
private final class StopFlag: Sendable {
    private let stopped = Atomic<Bool>(false)
    var isStopped: Bool { stopped.load(ordering: .acquiring) }
    func stop() { stopped.store(true, ordering: .releasing) }
}
