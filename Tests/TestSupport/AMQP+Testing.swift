import AMQP
import Foundation

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
    /// The next `count` elements, or fewer if `timeout` passes first.
    public func collect(_ count: Int, within timeout: Duration) async throws -> [Element] {
        try await withThrowingTaskGroup(of: [Element]?.self) { group in
            group.addTask {
                var collected: [Element] = []
                for try await element in self {
                    collected.append(element)
                    if collected.count == count { break }
                }
                return collected
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next()!
            group.cancelAll()
            return first ?? []
        }
    }
}
