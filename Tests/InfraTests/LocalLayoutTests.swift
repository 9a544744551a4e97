import Contracts
import LocalRun
import Testing

/// Where `./infra/dev` runs each instance, and how each reaches the brokers: the rules alone.
struct LocalLayoutTests {
    @Test func instancesAreNamedByServiceAndNumber() {
        #expect(ServiceInstance(name: "order-service") == ServiceInstance("order-service"))
        #expect(ServiceInstance(name: "order-service#2") == ServiceInstance("order-service", replica: 2))
        #expect(ServiceInstance(name: "order-service#2")?.description == "order-service#2")
        for bad in ["order-service#1", "order-service#0", "order-service#02", "order-service#100", "order-service#", "orders", ""] {
            #expect(ServiceInstance(name: bad) == nil, "\(bad)")
        }
    }

    @Test func everyServiceThatConsumesRunsAsManyInstancesAsAskedAndTheGatewayOnce() {
        let layout = LocalLayout(replicas: 2)
        #expect(layout.instances(of: SystemCatalog.gatewaySim) == [ServiceInstance("gateway-sim")])
        #expect(layout.instances(of: SystemCatalog.order) == [ServiceInstance("order-service"), ServiceInstance("order-service", replica: 2)])
        #expect(layout.instances.count == 1 + 2 * (SystemCatalog.all.count - 1))
        #expect(layout.instances.first == ServiceInstance("gateway-sim"), "payment-service needs the gateway first")
        #expect(layout.instances == layout.instances.sorted())
    }

    @Test func portsFollowTheCatalogFromTheBaseAndMoveByTwentyPerInstance() {
        let layout = LocalLayout(httpPortBase: 9000, replicas: 2)
        #expect(layout.port(of: ServiceInstance("order-service")) == 9000)
        #expect(layout.port(of: ServiceInstance("order-service", replica: 2)) == 9020)
        let gateway = ServiceInstance("gateway-sim")
        #expect(layout.port(of: gateway) == 9000 + SystemCatalog.gatewaySim.httpPort - SystemCatalog.order.httpPort)
        #expect(LocalLayout.httpPortBase(of: ServiceInstance("payment-service", replica: 2), listeningOn: 9021) == 9000)
    }

    @Test func aClusterIsReachedFromEachInstancesHomeNodeWithTheOthersAsFailover() {
        let layout = LocalLayout(replicas: 2, amqpPorts: [5672, 5673, 5674])
        #expect(layout.amqpURL() == "amqp://127.0.0.1:5672/?failover=127.0.0.1:5673,127.0.0.1:5674")
        #expect(layout.amqpURL(firstNode: 2) == "amqp://127.0.0.1:5674/?failover=127.0.0.1:5672,127.0.0.1:5673")
        let homes = layout.instances.map(layout.homeNode(of:))
        #expect(Set(homes) == [0, 1, 2], "connections spread over every node")
        #expect(layout.homeNode(of: ServiceInstance("order-service")) != layout.homeNode(of: ServiceInstance("order-service", replica: 2)))
        #expect(LocalLayout().amqpURL() == "amqp://127.0.0.1:5672/", "one node: no failover list")
    }

    @Test func theDatabaseIsTheInstallations() {
        #expect(LocalLayout(databasePort: 5433).databaseURL == "postgresql://127.0.0.1:5433/\(SystemCatalog.database)")
    }
}
