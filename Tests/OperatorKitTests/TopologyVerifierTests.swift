import AMQP
import Foundation
import Messaging
import MessagingConventions
import OperatorKit
import TestSupport
import Testing

/// `orderly topology verify` on the real broker, with the bindings from its real rabbitmqctl.
@Suite(.timeLimit(.minutes(2)))
struct TopologyVerifierTests {
    /// A topology of its own: an exchange, a service's queues (work, one tier, parking) and two bindings.
    static func topology(_ name: String) -> (AMQPTopology, ServiceQueues) {
        let queues = ServiceQueues(
            service: name, subscriptions: [.init(exchange: "\(name).events", routingKeys: ["thing.made", "thing.gone"])],
            retryPolicy: RetryPolicy(tiers: [.seconds(1)]))
        return (queues.topology, queues)
    }

    /// Every binding of the test broker's virtual host, from its rabbitmqctl.
    static let bindings: TopologyVerifier.BindingSource = {
        let virtualHost = try AMQPConfiguration(url: TestEnvironment.amqpURL).virtualHost
        return try BrokerBindings.parse(
            try TestEnvironment.infrastructure.rabbitmqctl(BrokerBindings.rabbitmqctlArguments(virtualHost: virtualHost), input: nil))
    }

    func withTopology(_ body: (AMQPTopology, ServiceQueues, AMQPConnection) async throws -> Void) async throws {
        let connection = try await AMQPConnection.forTesting("verify-tests")
        let (topology, queues) = Self.topology(TestEnvironment.uniqueName("verify"))
        do {
            try await body(topology, queues, connection)
        } catch {
            await remove(topology, connection)
            throw error
        }
        await remove(topology, connection)
    }

    private func remove(_ topology: AMQPTopology, _ connection: AMQPConnection) async {
        for queue in topology.queues { try? await connection.delete(queue: queue.name) }
        for exchange in topology.exchanges { try? await connection.delete(exchange: exchange.name) }
        await connection.close()
    }

    @Test func aTopologyDeclaredAsTheCatalogSaysMatches() async throws {
        try await withTopology { topology, _, connection in
            try await connection.declare(topology)
            let report = try await TopologyVerifier(topology, on: connection).verify(bindings: Self.bindings)
            #expect(report.problems == [])
            #expect(report.matches)
            #expect(report.items.count == topology.exchanges.count + topology.queues.count + topology.bindings.count)
        }
    }

    @Test func nothingDeclaredIsAllMissingAndVerifyingCreatesNothing() async throws {
        try await withTopology { topology, queues, connection in
            let report = try await TopologyVerifier(topology, on: connection).verify(bindings: Self.bindings)
            #expect(!report.matches)
            #expect(report.items.allSatisfy { $0.status == .missing })
            await #expect(throws: AMQPError.self) { _ = try await connection.status(ofQueue: queues.workQueue) }
            await #expect(throws: AMQPError.self) { try await connection.checkExchange(topology.exchanges[0].name) }
        }
    }

    @Test func aQueueWithOtherArgumentsAMissingBindingAndAnExtraOneAreNamed() async throws {
        try await withTopology { topology, queues, connection in
            let retry = queues.retryQueue(tier: 0)
            var changed = topology
            // The retry tier with another TTL; the work queue without its second binding, and with one more.
            changed.queues = topology.queues.map { queue in
                guard queue.name == retry else { return queue }
                var other = queue
                other.arguments["x-message-ttl"] = .int64(5000)
                return other
            }
            changed.bindings = [
                topology.bindings[0], AMQPTopology.Binding(queue: queues.workQueue, exchange: topology.exchanges[0].name, routingKey: "#"),
            ]
            try await connection.declare(changed)

            let report = try await TopologyVerifier(topology, on: connection).verify(bindings: Self.bindings)
            #expect(!report.matches)
            let problems = Dictionary(uniqueKeysWithValues: report.problems.map { ($0.name, $0) })
            #expect(problems.count == 3, "\(report.problems)")
            #expect(problems[retry]?.status == .different)
            #expect(problems[retry]?.detail?.contains("x-message-ttl") == true, "\(problems[retry]?.detail ?? "")")
            let exchange = topology.exchanges[0].name
            #expect(problems["\(exchange) → \(queues.workQueue) (thing.gone)"]?.status == .missing)
            #expect(problems["\(exchange) → \(queues.workQueue) (#)"]?.status == .unexpected)
            // Still as it was: verifying changed nothing.
            #expect(try await TopologyVerifier(changed, on: connection).verify(bindings: Self.bindings).matches)
        }
    }

    @Test func anExchangeOfAnotherTypeIsDifferent() async throws {
        try await withTopology { topology, _, connection in
            var changed = topology
            changed.exchanges[0].type = "direct"
            try await connection.declare(changed)
            let report = try await TopologyVerifier(topology, on: connection).verify(bindings: nil)
            let item = try #require(report.items.first { $0.kind == .exchange })
            #expect(item.status == .different)
            #expect(item.detail?.contains("type") == true, "\(item.detail ?? "")")
            #expect(report.items.filter { $0.kind == .binding }.allSatisfy { $0.status == .unchecked })
        }
    }

    @Test func bindingsThatCannotBeListedAreUncheckedNotMissing() async throws {
        try await withTopology { topology, _, connection in
            try await connection.declare(topology)
            struct Unreachable: Error {}
            let report = try await TopologyVerifier(topology, on: connection).verify(bindings: { throw Unreachable() })
            #expect(report.matches)
            #expect(report.items.filter { $0.kind == .binding }.allSatisfy { $0.status == .unchecked && $0.detail?.contains("Unreachable") == true })
        }
    }

    @Test func rabbitmqctlsJSONIsReadIntoQueueBindings() throws {
        let output = """
            [
            {"source_name":"","source_kind":"exchange","destination_name":"payment","destination_kind":"queue","routing_key":"payment","arguments":[]}
            ,{"source_name":"orderly.orders","source_kind":"exchange","destination_name":"payment","destination_kind":"queue","routing_key":"order.placed","arguments":[]}
            ,{"source_name":"a","source_kind":"exchange","destination_name":"b","destination_kind":"exchange","routing_key":"#","arguments":[]}
            ]
            """
        #expect(
            try BrokerBindings.parse(output) == [
                .init(queue: "payment", exchange: "", routingKey: "payment"),
                .init(queue: "payment", exchange: "orderly.orders", routingKey: "order.placed"),
            ])
        #expect(throws: BrokerBindingsError.self) { try BrokerBindings.parse("Error: unable to perform an operation on node") }
    }
}
