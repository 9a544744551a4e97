import AMQP
import Foundation

/// The bindings `rabbitmqctl list_bindings … --formatter json` prints, read into the topology's terms.
package enum BrokerBindings {
    /// The arguments to give `rabbitmqctl` for the bindings of `virtualHost`.
    package static func rabbitmqctlArguments(virtualHost: String) -> [String] {
        ["list_bindings", "-q", "-p", virtualHost, "source_name", "destination_name", "destination_kind", "routing_key", "--formatter", "json"]
    }

    /// The queue bindings in `rabbitmqctl`'s JSON output. Pure.
    ///
    /// - Throws: ``BrokerBindingsError`` when the output is not the JSON array `rabbitmqctl` prints.
    package static func parse(_ output: String) throws -> [AMQPTopology.Binding] {
        struct Row: Decodable {
            var source: String
            var destination: String
            var kind: String
            var routingKey: String

            enum CodingKeys: String, CodingKey {
                case source = "source_name"
                case destination = "destination_name"
                case kind = "destination_kind"
                case routingKey = "routing_key"
            }
        }
        // rabbitmqctl may print notices before the JSON; the array starts at the first '['.
        guard let start = output.firstIndex(of: "[") else { throw BrokerBindingsError(output: output) }
        do {
            let rows = try JSONDecoder().decode([Row].self, from: Data(output[start...].utf8))
            return rows.filter { $0.kind == "queue" }.map {
                AMQPTopology.Binding(queue: $0.destination, exchange: $0.source, routingKey: $0.routingKey)
            }
        } catch {
            throw BrokerBindingsError(output: output)
        }
    }
}

/// `rabbitmqctl` printed something else than a list of bindings.
package struct BrokerBindingsError: Error, CustomStringConvertible {
    package var output: String
    package var description: String { "rabbitmqctl printed no list of bindings: \(output.prefix(300))" }
}
