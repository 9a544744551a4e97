import AMQP
import Foundation

/// Checks that the broker has every exchange, queue (with its arguments) and binding of a topology,
/// as declared, without changing it.
///
/// Over AMQP only, with the operator's login: a passive declare tells whether an exchange or a queue
/// exists; for one that does, declaring it again as the topology has it changes nothing when it is the
/// same, and the broker refuses with 406 PRECONDITION_FAILED, naming the argument, when it differs.
/// (Between the two, something deleted by someone else would be created again; the window is a round trip.)
/// AMQP cannot list bindings, and the management plugin is not part of the installation, so bindings come
/// from a ``BindingSource``: `rabbitmqctl list_bindings` on the broker's machine.
package struct TopologyVerifier: Sendable {
    package let topology: AMQPTopology
    private let connection: AMQPConnection

    package init(_ topology: AMQPTopology, on connection: AMQPConnection) {
        self.topology = topology
        self.connection = connection
    }

    /// Where the broker's bindings come from: a function giving every binding of the virtual host.
    package typealias BindingSource = @Sendable () async throws -> [AMQPTopology.Binding]

    /// Checks everything; bindings are ``TopologyReport/Item/Status/unchecked`` without a source, or
    /// when the source fails (with its error as the detail).
    ///
    /// - Throws: ``AMQPError`` only for trouble with the connection itself (not reachable, refused).
    package func verify(bindings source: BindingSource?) async throws -> TopologyReport {
        var items: [TopologyReport.Item] = []
        for exchange in topology.exchanges {
            items.append(
                try await check(.exchange, exchange.name, exists: { try await connection.checkExchange(exchange.name) }) {
                    try await connection.declareOnce(AMQPTopology(exchanges: [exchange]))
                })
        }
        for queue in topology.queues {
            items.append(
                try await check(.queue, queue.name, exists: { _ = try await connection.status(ofQueue: queue.name) }) {
                    try await connection.declareOnce(AMQPTopology(queues: [queue]))
                })
        }
        guard let source else {
            return TopologyReport(items: items + topology.bindings.map { unchecked($0, "bindings not checked") })
        }
        do {
            items += TopologyReport.bindingItems(declared: topology, existing: try await source())
        } catch {
            items += topology.bindings.map { unchecked($0, "cannot list the broker's bindings: \(error)") }
        }
        return TopologyReport(items: items)
    }

    private func unchecked(_ binding: AMQPTopology.Binding, _ why: String) -> TopologyReport.Item {
        TopologyReport.Item(kind: .binding, name: TopologyReport.name(of: binding), status: .unchecked, detail: why)
    }

    private func check(
        _ kind: TopologyReport.Item.Kind, _ name: String, exists: () async throws -> Void, same: () async throws -> Void
    ) async throws -> TopologyReport.Item {
        do {
            try await exists()
        } catch let error as AMQPError where error.replyCode == 404 {
            return TopologyReport.Item(kind: kind, name: name, status: .missing)
        }
        do {
            try await same()
        } catch let error as AMQPError where error.replyCode == 406 {
            return TopologyReport.Item(kind: kind, name: name, status: .different, detail: Self.difference(error.message))
        }
        return TopologyReport.Item(kind: kind, name: name, status: .ok)
    }

    /// The broker's words about a difference, without the method and reply-code prefix.
    static func difference(_ message: String) -> String {
        guard let range = message.range(of: "PRECONDITION_FAILED - ") else { return message }
        return String(message[range.upperBound...])
    }
}
