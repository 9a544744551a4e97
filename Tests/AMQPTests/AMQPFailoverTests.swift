import AMQP
import Foundation
import TestSupport
import Testing

/// A client given several addresses, against the real broker: one dead address, then the live one.
@Suite(.timeLimit(.minutes(1)))
struct AMQPFailoverTests {
    @Test func aClientGivenADeadNodeFirstConnectsToTheLiveOneAtOnce() async throws {
        let dead = try ReservedPort()
        // The URL as an installation writes it: the dead node first, the live one in the failover list.
        var url = try #require(URLComponents(string: TestEnvironment.amqpURL))
        let live = "\(url.host ?? "127.0.0.1"):\(url.port ?? 5672)"
        url.host = "127.0.0.1"
        url.port = dead.port
        url.queryItems = [URLQueryItem(name: "failover", value: live)]
        var configuration = try AMQPConfiguration(url: try #require(url.string))
        #expect(configuration.addresses.map(\.description) == ["127.0.0.1:\(dead.port)", live])
        configuration.connectionName = "failover"
        // A backoff this long would show in the log: the live node must be tried right after the dead one fails.
        configuration.reconnectBackoff = Backoff(initial: .seconds(10), maximum: .seconds(10))

        let log = LogRecorder()
        let connection = try await AMQPConnection.connect(configuration: configuration, logger: log.logger("failover"), waitUpTo: .seconds(30))
        // Read in what the client tells the operator, not on a stopwatch: on a busy machine a slow login takes as long
        // as a backoff. The dead node's failure put no wait before the next attempt, and the connection is to the live node.
        let failure = try #require(log.entries.first(where: { $0.message == "no connection to the broker" }))
        #expect(failure.metadata["error"]?.contains("127.0.0.1:\(dead.port)") == true, "\(failure)")
        #expect(failure.metadata["amqp.retry_in"] == "\(Duration.zero)", "\(failure)")
        let connected = try #require(log.entries.first(where: { $0.message == "connected to the broker" }))
        #expect(connected.metadata["amqp.host"] == live, "\(connected)")

        // And it works: a message goes round through the live node.
        let queue = TestEnvironment.uniqueName("failover")
        try await connection.declare(AMQPTopology(queues: [.quorum(queue)]))
        try await connection.publish(AMQPMessage("through the second address"), exchange: "", routingKey: queue)
        let consumer = try await connection.consume(queue: queue)
        let delivery = try #require(try await consumer.collect(1, within: .seconds(10)).first)
        #expect(String(decoding: delivery.body, as: UTF8.self) == "through the second address")
        delivery.ack()
        try await connection.delete(queue: queue)
        await connection.close()
    }

    @Test func aClientWhoseEveryNodeIsDeadSaysWhichItTried() async throws {
        let first = try ReservedPort()
        let second = try ReservedPort()
        var configuration = try AMQPConfiguration(url: TestEnvironment.amqpURL)
        configuration.host = "127.0.0.1"
        configuration.port = first.port
        configuration.failover = [AMQPAddress(host: "127.0.0.1", port: second.port)]
        configuration.reconnectBackoff = Backoff(initial: .milliseconds(50), maximum: .milliseconds(200))
        let error = await #expect(throws: AMQPError.self) {
            _ = try await AMQPConnection.connect(configuration: configuration, logger: TestEnvironment.logger("failover"), waitUpTo: .seconds(2))
        }
        #expect(error?.code == .connectionFailed)
        #expect(error?.message.contains("127.0.0.1:\(first.port)") == true || error?.message.contains("127.0.0.1:\(second.port)") == true)
    }
}
