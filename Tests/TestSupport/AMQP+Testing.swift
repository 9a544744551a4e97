import AMQP
import Foundation
import Synchronization

extension AMQPConnection {
    /// A connection to the test broker, with short timeouts so that failures show quickly.
    public static func forTesting(_ name: String, configure: (inout AMQPConfiguration) -> Void = { _ in }) async throws -> AMQPConnection {
        var configuration = try AMQPConfiguration(url: TestEnvironment.amqpURL)
        configuration.connectionName = name
        configuration.heartbeat = .seconds(4)
        configuration.reconnectBackoff = Backoff(initial: .milliseconds(100), maximum: .seconds(1))
        configure(&configuration)
        return try await connect(configuration: configuration, logger: TestEnvironment.logger(name), waitUpTo: .seconds(30))
    }
}

extension AsyncSequence where Self: Sendable, Element: Sendable {
    /// The next `count` elements, or those that came before `timeout` passed.
    public func collect(_ count: Int, within timeout: Duration) async throws -> [Element] {
        let collected = Collected<Element>()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for try await element in self {
                    if collected.append(element) == count { return }
                }
            }
            group.addTask { try await Task.sleep(for: timeout) }
            try await group.next()
            group.cancelAll()
        }
        return collected.elements
    }
}

/// Elements gathered by one task and read by another.
final class Collected<Element: Sendable>: Sendable {
    private let storage = Mutex<[Element]>([])

    /// Appends and returns the new count.
    func append(_ element: Element) -> Int {
        storage.withLock {
            $0.append(element)
            return $0.count
        }
    }

    var elements: [Element] { storage.withLock { $0 } }
}

extension AMQPTopology {
    /// An exchange with a queue that takes everything published on it, to see what a service emitted.
    public static func probe(exchange: String, queue: String) -> AMQPTopology {
        AMQPTopology(
            exchanges: [.init(name: exchange)], queues: [.init(name: queue)], bindings: [.init(queue: queue, exchange: exchange, routingKey: "#")])
    }
}
