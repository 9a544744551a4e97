import CAMQPShim
import Glibc
import Synchronization

/// What the API side asks of the I/O thread.
enum Command: Sendable {
    case publish(PendingPublish)
    case acknowledge(Acknowledgement)
    case request(PendingRequest)
    case consume(ConsumerRegistration, reply: @Sendable (Result<Void, AMQPError>) -> Void)
    case cancel(consumerTag: String)
    case close(reply: @Sendable () -> Void)
}

/// An ack, nack or reject of a delivery, valid only on the channel incarnation that delivered it.
struct Acknowledgement: Sendable {
    enum Kind: Sendable {
        case ack(multiple: Bool)
        case nack(multiple: Bool, requeue: Bool)
        case reject(requeue: Bool)
    }

    var consumerTag: String
    var epoch: UInt64
    var deliveryTag: UInt64
    var kind: Kind
}

/// A synchronous AMQP method and whom to tell its outcome.
struct PendingRequest: Sendable {
    enum Method: Sendable {
        case declare(AMQPTopology)
        /// Declared now, not recorded for the next reconnect.
        case declareOnce(AMQPTopology)
        case queueStatus(String)
        case exchangeExists(String)
        case purgeQueue(String)
        case deleteQueue(String)
        case deleteExchange(String)
    }

    enum Outcome: Sendable {
        case done
        case status(AMQPQueueStatus)
        case count(UInt32)
    }

    var method: Method
    var deadline: ContinuousClock.Instant
    var reply: @Sendable (Result<Outcome, AMQPError>) -> Void
}

/// A consumer as the I/O thread keeps it across reconnects.
struct ConsumerRegistration: Sendable {
    var queue: String
    var prefetch: UInt16
    var tag: String
    var deliveries: AsyncStream<AMQPDelivery>.Continuation
}

/// The hand-over point between callers on any thread and the connection's I/O thread.
///
/// Commands are queued under a mutex; an eventfd wakes the I/O thread only when it is asleep in
/// `poll`, so a burst of publishes costs one wake-up, not one system call each.
final class Mailbox: Sendable {
    private struct State {
        var commands: [Command] = []
        var sleeping = false
        var wakePending = false
        var accepting = true
        var connected = false
        var lastError: AMQPError?
        /// Why a consumer could not be registered again, by consumer tag, until it is.
        var consumerFailures: [String: AMQPError] = [:]
    }

    private let state = Mutex(State())
    let wakeDescriptor: Int32

    init() {
        wakeDescriptor = orderly_wake_descriptor()
        precondition(wakeDescriptor >= 0, "eventfd failed: \(errno)")
    }

    deinit { close(wakeDescriptor) }

    /// Queues a command; returns false when the connection is closed and takes no more.
    @discardableResult
    func post(_ command: Command) -> Bool {
        let (accepted, wake) = state.withLock { state -> (Bool, Bool) in
            guard state.accepting else { return (false, false) }
            state.commands.append(command)
            guard state.sleeping, !state.wakePending else { return (true, false) }
            state.wakePending = true
            return (true, true)
        }
        if wake {
            var one: UInt64 = 1
            _ = write(wakeDescriptor, &one, MemoryLayout<UInt64>.size)
        }
        return accepted
    }

    /// Everything queued since the last call.
    func take() -> [Command] {
        state.withLock { state in
            defer { state.commands.removeAll(keepingCapacity: true) }
            return state.commands
        }
    }

    /// Marks the I/O thread asleep, unless commands are waiting (then it must not sleep).
    func prepareToSleep() -> Bool {
        state.withLock { state in
            guard state.commands.isEmpty else { return false }
            state.sleeping = true
            return true
        }
    }

    func didWake() {
        state.withLock { state in
            state.sleeping = false
            state.wakePending = false
        }
        var counter: UInt64 = 0
        _ = read(wakeDescriptor, &counter, MemoryLayout<UInt64>.size)
    }

    /// Refuses further commands; returns those still queued.
    func stopAccepting() -> [Command] {
        state.withLock { state in
            state.accepting = false
            defer { state.commands.removeAll() }
            return state.commands
        }
    }

    func setConnected(_ connected: Bool, error: AMQPError? = nil) {
        state.withLock { state in
            state.connected = connected
            if let error { state.lastError = error }
        }
    }

    func setConsumerFailure(_ tag: String, _ error: AMQPError?) {
        state.withLock { $0.consumerFailures[tag] = error }
    }

    func consumerFailure(_ tag: String) -> AMQPError? {
        state.withLock { $0.consumerFailures[tag] }
    }

    var connection: (connected: Bool, lastError: AMQPError?) {
        state.withLock { ($0.connected, $0.lastError) }
    }
}
