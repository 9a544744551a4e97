import AMQP
import Contracts
import Foundation
import Messaging
import Provisioning
import TestSupport
import Testing

/// Each service's RabbitMQ user, logged in for real on the broker `./infra/dev test` provisioned:
/// refused a publish to any exchange but its own, a consume from any queue but its own work and parking queues; the ingress
/// user refused everything but a publish to `orderly.ingress`; `guest` gone.
@Suite(.timeLimit(.minutes(2)))
struct BrokerPermissionTests {
    static let emitting = SystemCatalog.all.filter { $0.exchange != nil }

    /// Runs `body` with a connection logged in as `user` with its provisioned password.
    func connected<T>(as user: String, _ body: (AMQPConnection) async throws -> T) async throws -> T {
        var configuration = try AMQPConfiguration(url: try TestEnvironment.amqpURL(asUser: user))
        configuration.connectionName = "access-test-\(user)"
        configuration.reconnectBackoff = Backoff(initial: .milliseconds(100), maximum: .seconds(1))
        return try await AMQPConnection.withConnection(configuration: configuration, logger: TestEnvironment.logger("access"), body)
    }

    func message(_ type: EventType) -> AMQPMessage {
        var properties = AMQPProperties()
        properties.type = type.rawValue
        properties.messageID = UUID().uuidString
        return AMQPMessage(body: Array("{}".utf8), properties: properties)
    }

    /// The broker's answer to a publish: `nil` when it took the message, else its reply code.
    func publishRefusal(as user: String, to exchange: String, routingKey: String) async throws -> UInt16? {
        try await connected(as: user) { connection in
            do {
                try await connection.publish(
                    message(.orderRequested), exchange: exchange, routingKey: routingKey, mandatory: false, timeout: .seconds(10))
                return nil
            } catch let error as AMQPError {
                return error.replyCode ?? 0
            }
        }
    }

    /// The broker's answer to a consume: `nil` when it let the user consume, else its reply code.
    func consumeRefusal(as user: String, queue: String) async throws -> UInt16? {
        try await connected(as: user) { connection in
            do {
                let consumer = try await connection.consume(queue: queue, prefetch: 1)
                consumer.cancel()
                return nil
            } catch let error as AMQPError {
                return error.replyCode ?? 0
            }
        }
    }

    @Test(arguments: emitting.map(\.name))
    func aServiceMayPublishToItsOwnExchangeOnly(service: String) async throws {
        let descriptor = try #require(SystemCatalog.service(named: service))
        let own = try #require(descriptor.exchange)
        #expect(try await publishRefusal(as: descriptor.brokerUser, to: own, routingKey: "access.test") == nil)
        for other in Exchange.all where other != own {
            #expect(
                try await publishRefusal(as: descriptor.brokerUser, to: other, routingKey: "access.test") == 403,
                "\(descriptor.brokerUser) must not publish to \(other)")
        }
    }

    @Test(arguments: emitting.map(\.name))
    func aServiceMayConsumeItsOwnQueueOnly(service: String) async throws {
        let descriptor = try #require(SystemCatalog.service(named: service))
        let queues = try #require(descriptor.queues)
        for other in SystemCatalog.all.compactMap(\.queues) where other.workQueue != queues.workQueue {
            for queue in [other.workQueue, other.parkingQueue, other.retryQueue(tier: 0)] {
                #expect(
                    try await consumeRefusal(as: descriptor.brokerUser, queue: queue) == 403, "\(descriptor.brokerUser) must not consume \(queue)")
            }
        }
        #expect(try await consumeRefusal(as: descriptor.brokerUser, queue: queues.workQueue) == nil)
        // Its own parking queue it reads for its administrative routes (GET /v1/admin/parked); its retry tiers it only writes.
        #expect(try await consumeRefusal(as: descriptor.brokerUser, queue: queues.parkingQueue) == nil)
        #expect(try await consumeRefusal(as: descriptor.brokerUser, queue: queues.retryQueue(tier: 0)) == 403)
    }

    @Test func theIngressUserMayOnlyPublishToTheIngressExchange() async throws {
        let ingress = SystemCatalog.brokerIngress.name
        #expect(try await publishRefusal(as: ingress, to: Exchange.ingress, routingKey: "access.test") == nil)
        for other in Exchange.all where other != Exchange.ingress {
            #expect(try await publishRefusal(as: ingress, to: other, routingKey: "access.test") == 403, "ingress must not publish to \(other)")
        }
        #expect(try await publishRefusal(as: ingress, to: "", routingKey: Subscriptions.order.workQueue) == 403, "nor straight into a queue")
        for queues in Subscriptions.all {
            #expect(try await consumeRefusal(as: ingress, queue: queues.workQueue) == 403, "ingress must not consume \(queues.workQueue)")
        }
    }

    @Test func theGatewaySimulatorMayDoNothingButConnect() async throws {
        let user = SystemCatalog.gatewaySim.brokerUser
        for exchange in Exchange.all {
            #expect(try await publishRefusal(as: user, to: exchange, routingKey: "access.test") == 403)
        }
        #expect(try await consumeRefusal(as: user, queue: Subscriptions.payment.workQueue) == 403)
    }

    @Test func guestIsGone() async throws {
        var configuration = try AMQPConfiguration(url: TestEnvironment.amqpURL)
        configuration.user = "guest"
        configuration.password = "guest"
        await #expect(throws: AMQPError.self) {
            try await AMQPConnection.withConnection(configuration: configuration, logger: TestEnvironment.logger("access")) { _ in }
        }
    }
}
