import AMQP
import Foundation

extension AMQPConnection {
    /// A connection to the test broker, with short timeouts so that failures show quickly.
    package static func forTesting(_ name: String, configure: (inout AMQPConfiguration) -> Void = { _ in }) async throws -> AMQPConnection {
        var configuration = try AMQPConfiguration(url: TestEnvironment.amqpURL)
        configuration.connectionName = name
        configuration.heartbeat = .seconds(4)
        configuration.reconnectBackoff = Backoff(initial: .milliseconds(100), maximum: .seconds(1))
        configure(&configuration)
        return try await connect(configuration: configuration, logger: TestEnvironment.logger(name), waitUpTo: .seconds(30))
    }
}

extension AMQPTopology {
    /// An exchange with a queue that takes everything published on it, to see what a service emitted.
    package static func probe(exchange: String, queue: String) -> AMQPTopology {
        AMQPTopology(
            exchanges: [.init(name: exchange)], queues: [.init(name: queue)], bindings: [.init(queue: queue, exchange: exchange, routingKey: "#")])
    }
}
