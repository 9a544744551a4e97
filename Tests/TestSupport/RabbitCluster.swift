import Foundation
import LocalRun
import Provisioning

/// A RabbitMQ cluster of its own, beside the shared broker: `infra/dev` runs it in a data folder of
/// its own (`<data folder>/clusters/<name>`) on free ports, provisioned with the catalog's users and
/// the shared installation's passwords, so that the operator and every service log in to it as they
/// do to the shared broker.
package struct RabbitCluster: Sendable {
    /// `infra/dev` pointed at the cluster: its `start`, `stop` and `rabbitmqctl` reach the cluster's nodes.
    package let infrastructure: LocalInfrastructure
    package let nodes: Int
    /// Node K listens on `firstPort + K - 1`.
    package let firstPort: Int
    /// How long `infra/dev start rabbitmq` took to start the nodes and join them.
    package let startup: Duration

    /// The operator's login (`ORDERLY_AMQP_URL`) on the cluster: node 1 first, the others in the failover list.
    package var operatorURL: String {
        var url = URLComponents(string: TestEnvironment.amqpURL)!
        url.host = "127.0.0.1"
        url.port = firstPort
        url.percentEncodedPath = "/"
        url.queryItems = [URLQueryItem(name: "failover", value: (1..<nodes).map { "127.0.0.1:\(firstPort + $0)" }.joined(separator: ","))]
        return url.string!
    }

    /// Starts a cluster of `nodes` nodes, provisions it, runs `body` with it, and stops it and removes
    /// its folder whether `body` returns or throws. A cluster left behind by a run that died is stopped first.
    package static func with<T>(nodes: Int, name: String, _ body: (RabbitCluster) async throws -> T) async throws -> T {
        let shared = TestEnvironment.infrastructure
        let folder = shared.dataDirectory.appendingPathComponent("clusters/\(name)")
        // Without ORDERLY_AMQP_PORT and ORDERLY_RABBIT_NODES, infra/dev finds what runs there by itself.
        let leftover = LocalInfrastructure(
            script: shared.script, environment: ["ORDERLY_DATA_DIR": folder.path, "ORDERLY_AMQP_PORT": "", "ORDERLY_RABBIT_NODES": ""])
        if FileManager.default.fileExists(atPath: folder.path) {
            try leftover.stop(.rabbitmq, quiet: true)
            try FileManager.default.removeItem(at: folder)
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let port = try freePorts(count: nodes)
        let infrastructure = LocalInfrastructure(
            script: shared.script,
            environment: ["ORDERLY_DATA_DIR": folder.path, "ORDERLY_AMQP_PORT": "\(port)", "ORDERLY_RABBIT_NODES": "\(nodes)"])
        let cleanUp = {
            try? infrastructure.stop(.rabbitmq, quiet: true)
            try? FileManager.default.removeItem(at: folder)
        }
        do {
            let started = ContinuousClock.now
            try infrastructure.start(.rabbitmq, quiet: true)
            let cluster = RabbitCluster(infrastructure: infrastructure, nodes: nodes, firstPort: port, startup: .now - started)
            // What 'orderly system provision' does for an installation, through whichever node runs:
            // users, permissions and definitions are the cluster's.
            try Provisioner(secrets: TestEnvironment.secrets).provisionBroker { arguments, input in
                try infrastructure.rabbitmqctl(arguments, input: input)
            }
            let result = try await body(cluster)
            cleanUp()
            return result
        } catch {
            cleanUp()
            throw error
        }
    }

    /// The first AMQP port from 5800 on such that it and the `count - 1` after it, and each one's
    /// distribution port (20000 above), are free.
    static func freePorts(count: Int) throws -> Int {
        for first in stride(from: 5800, to: 6000, by: count) {
            let ports = (first..<first + count).flatMap { [$0, $0 + 20000] }
            if ports.allSatisfy(ReservedPort.isFree) { return first }
        }
        throw ReservedPortError(port: 5800)
    }
}
