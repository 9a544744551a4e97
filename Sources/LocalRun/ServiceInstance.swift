import Contracts

/// One running copy of a service: instance 1 is called by the service's name, instance K (from 2)
/// `NAME#K` (`order-service#2`).
package struct ServiceInstance: Sendable, Hashable, Comparable, CustomStringConvertible {
    package var service: String
    /// From 1.
    package var replica: Int

    package init(_ service: String, replica: Int = 1) {
        self.service = service
        self.replica = replica
    }

    /// An instance's name: a service of the catalog, alone or with `#2` to `#99`; nil for anything else.
    package init?(name: String) {
        let parts = name.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
        guard SystemCatalog.service(named: String(parts[0])) != nil else { return nil }
        guard parts.count == 2 else {
            self.init(String(parts[0]))
            return
        }
        guard parts[1].allSatisfy(\.isNumber), parts[1].first != "0", let replica = Int(parts[1]), (2...99).contains(replica) else { return nil }
        self.init(String(parts[0]), replica: replica)
    }

    package var description: String { replica == 1 ? service : "\(service)#\(replica)" }

    /// By the catalog's order of services, then by number.
    package static func < (lhs: Self, rhs: Self) -> Bool {
        let order = SystemCatalog.all.map(\.name)
        let left = order.firstIndex(of: lhs.service) ?? order.count
        let right = order.firstIndex(of: rhs.service) ?? order.count
        return (left, lhs.replica) < (right, rhs.replica)
    }
}

extension ServiceDescriptor {
    /// Whether several instances of it may run side by side: those that consume compete for their
    /// queue; the gateway simulator, which keeps its ledger in one process, runs once.
    package var isReplicable: Bool { queues != nil }
}
