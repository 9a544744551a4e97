import AMQP
import Foundation
import Logging
import Postgres

/// What this machine's PostgreSQL and RabbitMQ allow, measured with Orderly's own clients: durable
/// commits per second, and persistent messages confirmed by a quorum queue per second.
package struct Limits: Sendable, Hashable, Codable {
    package var commitsPerSecond: Double
    package var publishesPerSecond: Double

    /// Commits of one small insert each, from `connections` concurrent connections, for `duration`.
    package static func commits(databaseURL: String, connections: Int = 16, duration: Duration = .seconds(5), logger: Logger) async throws
        -> Double
    {
        let pool = PostgresPool(configuration: try PostgresConfiguration(url: databaseURL), size: connections, logger: logger)
        let table = "bench_limits_\(UInt32.random(in: 0...UInt32.max))"
        try await pool.execute("CREATE TABLE \(identifier: table) (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())")
        let deadline = ContinuousClock.now + duration
        let start = ContinuousClock.now
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<connections {
                group.addTask {
                    var count = 0
                    while ContinuousClock.now < deadline {
                        _ = try await pool.transaction { try await $0.execute("INSERT INTO \(identifier: table) DEFAULT VALUES") }
                        count += 1
                    }
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = (ContinuousClock.now - start).seconds
        try await pool.execute("DROP TABLE \(identifier: table)")
        await pool.close()
        return Double(total) / elapsed
    }

    /// Persistent 512-byte messages published with confirms to a quorum queue, for `duration`.
    package static func publishes(amqpURL: String, duration: Duration = .seconds(5), logger: Logger) async throws -> Double {
        var configuration = try AMQPConfiguration(url: amqpURL)
        configuration.connectionName = "bench-limits"
        configuration.publishWindow = 1024
        return try await AMQPConnection.withConnection(configuration: configuration, logger: logger) { connection in
            let queue = "bench.limits.\(UInt32.random(in: 0...UInt32.max))"
            try await connection.declare(AMQPTopology(queues: [.quorum(queue)]))
            let publication = AMQPConnection.Publication(
                AMQPMessage(body: Array(repeating: 120, count: 512)), exchange: "", routingKey: queue)
            let deadline = ContinuousClock.now + duration
            let start = ContinuousClock.now
            let total = await withTaskGroup(of: Int.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        var count = 0
                        while ContinuousClock.now < deadline {
                            count += await connection.publish(Array(repeating: publication, count: 256)).filter { (try? $0.get()) != nil }.count
                        }
                        return count
                    }
                }
                return await group.reduce(0, +)
            }
            let elapsed = (ContinuousClock.now - start).seconds
            try await connection.delete(queue: queue)
            return Double(total) / elapsed
        }
    }
}
