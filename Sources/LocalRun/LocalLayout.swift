import Contracts
import Provisioning

/// Where `./infra/dev` runs the processes of an installation on this machine: every service's
/// instances and ports, and how each reaches RabbitMQ (one node or a cluster) and PostgreSQL.
///
/// Instance K of a service listens on its service's port (counted from ``httpPortBase`` as the catalog
/// places it) plus ``instancePortStep`` for each instance before it: `order-service#2` on 8100.
package struct LocalLayout: Sendable, Hashable {
    /// Where order-service's first instance listens; the other services are moved as much.
    package var httpPortBase: Int
    /// Instances of each service that consumes.
    package var replicas: Int
    /// Every RabbitMQ node's AMQP port on loopback, node 1 first.
    package var amqpPorts: [Int]
    /// PostgreSQL's port on loopback.
    package var databasePort: Int

    package static let instancePortStep = 20

    package init(httpPortBase: Int = SystemCatalog.order.httpPort, replicas: Int = 1, amqpPorts: [Int] = [5672], databasePort: Int = 5432) {
        self.httpPortBase = httpPortBase
        self.replicas = replicas
        self.amqpPorts = amqpPorts
        self.databasePort = databasePort
    }

    /// The instances of `service` to run.
    package func instances(of service: ServiceDescriptor) -> [ServiceInstance] {
        (1...(service.isReplicable ? replicas : 1)).map { ServiceInstance(service.name, replica: $0) }
    }

    /// Every instance to run, in start order: payment-service needs the gateway simulator first.
    package var instances: [ServiceInstance] { SystemCatalog.all.flatMap(instances(of:)) }

    /// Where the first instance of each service listens, by name.
    package var servicePorts: [String: Int] { ServiceEnvironment.ports(base: httpPortBase) }

    /// The port `instance` listens on.
    package func port(of instance: ServiceInstance) -> Int {
        (servicePorts[instance.service] ?? 0) + Self.instancePortStep * (instance.replica - 1)
    }

    /// The base the ports of services that run were counted from, given where one of them listens.
    package static func httpPortBase(of instance: ServiceInstance, listeningOn port: Int) -> Int? {
        guard let service = SystemCatalog.service(named: instance.service) else { return nil }
        return port - Self.instancePortStep * (instance.replica - 1) - (service.httpPort - SystemCatalog.order.httpPort)
    }

    /// The node (from 0) an instance connects to first: instances and services take turns, so that
    /// their connections spread over a cluster's nodes.
    package func homeNode(of instance: ServiceInstance) -> Int {
        let index = SystemCatalog.all.firstIndex { $0.name == instance.service } ?? 0
        return (index + instance.replica - 1) % amqpPorts.count
    }

    /// The broker without a login: node `first` (from 0), then every other node in turn in its `failover` list.
    package func amqpURL(firstNode first: Int = 0) -> String {
        let addresses = amqpPorts.indices.map { "127.0.0.1:\(amqpPorts[(first + $0) % amqpPorts.count])" }
        let failover = addresses.count > 1 ? "?failover=" + addresses.dropFirst().joined(separator: ",") : ""
        return "amqp://\(addresses[0])/" + failover
    }

    /// The database without a login.
    package var databaseURL: String { "postgresql://127.0.0.1:\(databasePort)/\(SystemCatalog.database)" }
}
