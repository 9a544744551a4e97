import AMQP

/// What `orderly topology verify` found: each exchange, queue and binding of the catalog, as it is on the broker.
package struct TopologyReport: Sendable, Hashable {
    /// One declared thing and how it stands.
    package struct Item: Sendable, Hashable {
        package enum Kind: String, Sendable, Hashable, Codable {
            case exchange, queue, binding
        }

        package enum Status: String, Sendable, Hashable, Codable, CaseIterable {
            /// There, as declared.
            case ok
            /// Not on the broker.
            case missing
            /// There, but with other settings or arguments than declared (`detail` says which).
            case different
            /// On the broker but not declared by the catalog: a binding that sends a work queue events it does not expect.
            case unexpected
            /// Could not be checked (`detail` says why).
            case unchecked
        }

        package var kind: Kind
        /// The exchange or queue name; for a binding `exchange → queue (routing key)`.
        package var name: String
        package var status: Status
        package var detail: String?

        package init(kind: Kind, name: String, status: Status, detail: String? = nil) {
            self.kind = kind
            self.name = name
            self.status = status
            self.detail = detail
        }
    }

    package var items: [Item]

    package init(items: [Item]) { self.items = items }

    /// Whether nothing checked is missing, different or unexpected (what could not be checked aside).
    package var matches: Bool { !items.contains { [.missing, .different, .unexpected].contains($0.status) } }

    /// The items that are not ``Item/Status/ok``.
    package var problems: [Item] { items.filter { $0.status != .ok } }

    /// The name a binding goes by in a report.
    static func name(of binding: AMQPTopology.Binding) -> String {
        "\(binding.exchange) → \(binding.queue) (\(binding.routingKey))"
    }

    /// The binding items: each declared binding found or missing, and every binding to a declared queue
    /// from a named exchange that the catalog does not declare. Pure.
    ///
    /// - Parameters:
    ///   - declared: the catalog's topology.
    ///   - existing: the bindings the broker has (any queue; those from the default exchange are ignored).
    package static func bindingItems(declared: AMQPTopology, existing: [AMQPTopology.Binding]) -> [Item] {
        func key(_ binding: AMQPTopology.Binding) -> [String] { [binding.exchange, binding.queue, binding.routingKey] }
        let existingKeys = Set(existing.map(key))
        let declaredKeys = Set(declared.bindings.map(key))
        let declaredQueues = Set(declared.queues.map(\.name))
        var items = declared.bindings.map { binding in
            Item(kind: .binding, name: name(of: binding), status: existingKeys.contains(key(binding)) ? .ok : .missing)
        }
        for binding in existing
        where !binding.exchange.isEmpty && declaredQueues.contains(binding.queue) && !declaredKeys.contains(key(binding)) {
            items.append(Item(kind: .binding, name: name(of: binding), status: .unexpected, detail: "not declared by the catalog"))
        }
        return items
    }
}
