import AMQP
import Contracts
import Foundation
import Inventory
import Messaging
import Notification
import Order
import Payment
import Provisioning
import Testing

/// The permissions the catalog derives against what each service really declares, publishes and
/// consumes: enough for all of it, and nothing of another service's.
@Suite struct CatalogPermissionTests {
    /// What each service declares at start (its consumer's queues and bindings, its relay's exchange), from its own configuration.
    static let declared: [String: AMQPTopology] = [
        SystemCatalog.order.name: OrderServiceConfiguration().queues.topology.merging(
            AMQPTopology(exchanges: [.init(name: OrderServiceConfiguration().events.exchange)])),
        SystemCatalog.payment.name: PaymentConfiguration().topology,
        SystemCatalog.inventory.name: InventoryConfiguration().topology,
        SystemCatalog.notification.name: NotificationConfiguration().topology,
    ]

    func matches(_ pattern: String, _ name: String) -> Bool {
        name.range(of: pattern, options: .regularExpression) != nil
    }

    @Test(arguments: Array(declared.keys).sorted())
    func everyServiceMayDeclareBindPublishAndConsumeWhatItDoes(service: String) throws {
        let descriptor = try #require(SystemCatalog.service(named: service))
        let topology = try #require(Self.declared[service])
        let permissions = descriptor.brokerPermissions
        for exchange in topology.exchanges { #expect(matches(permissions.configure, exchange.name), "declare \(exchange.name)") }
        for queue in topology.queues { #expect(matches(permissions.configure, queue.name), "declare \(queue.name)") }
        for binding in topology.bindings {
            #expect(matches(permissions.write, binding.queue), "bind \(binding.queue) (write on the queue)")
            #expect(matches(permissions.read, binding.exchange), "bind to \(binding.exchange) (read on the exchange)")
        }
        let queues = try #require(descriptor.queues)
        #expect(matches(permissions.read, queues.workQueue), "consume \(queues.workQueue)")
        #expect(matches(permissions.read, queues.parkingQueue), "list and replay \(queues.parkingQueue)")
        for tier in queues.retryPolicy.tiers.indices {
            #expect(!matches(permissions.read, queues.retryQueue(tier: tier)), "the broker alone takes from \(queues.retryQueue(tier: tier))")
        }
        #expect(matches(permissions.write, try #require(descriptor.exchange)), "publish its events")
        #expect(matches(permissions.write, BrokerPermissions.defaultExchange), "forward to its retry tiers and parking queue")
    }

    @Test(arguments: Array(declared.keys).sorted())
    func noServiceMayWriteOrReadWhatIsAnothers(service: String) throws {
        let descriptor = try #require(SystemCatalog.service(named: service))
        let permissions = descriptor.brokerPermissions
        for exchange in Exchange.all where exchange != descriptor.exchange {
            #expect(!matches(permissions.write, exchange), "\(service) must not publish to \(exchange)")
        }
        for other in SystemCatalog.all where other.name != service {
            for queue in other.queues?.topology.queues.map(\.name) ?? [] {
                #expect(!matches(permissions.read, queue), "\(service) must not consume \(queue)")
                #expect(!matches(permissions.configure, queue), "\(service) must not declare or delete \(queue)")
                #expect(!matches(permissions.write, queue), "\(service) must not bind \(queue)")
            }
        }
        // Whole names only: a queue called like a prefix of its own does not match.
        let own = try #require(descriptor.queues?.workQueue)
        #expect(!matches(permissions.read, own + "x") && !matches(permissions.read, "x" + own))
    }

    @Test func theDefinitionsDeclareWhatTheServicesDeclareAndTheIngressExchange() {
        let declared = Self.declared.values.reduce(AMQPTopology(exchanges: [.init(name: Exchange.ingress)])) { $0.merging($1) }
        let definitions = BrokerDefinitions.catalog().topology
        #expect(Set(declared.exchanges) == Set(definitions.exchanges))
        #expect(Set(declared.queues) == Set(definitions.queues))
        #expect(Set(declared.bindings) == Set(definitions.bindings))
    }

    @Test func everyProcessHasItsOwnUserAndRoleAndTheOthersAreNamed() {
        let users = SystemCatalog.brokerUsers.map(\.name)
        #expect(Set(users).count == users.count)
        #expect(Set(users) == Set(SystemCatalog.all.map(\.brokerUser) + ["ingress", "orderly"]))
        #expect(!users.contains("guest"))
        let roles = SystemCatalog.databaseRoles.map(\.name)
        #expect(Set(roles) == Set(SystemCatalog.all.map(\.databaseRole) + ["orderly"]))
        #expect(SystemCatalog.brokerUsers.filter { $0.tags.contains("administrator") }.map(\.name) == ["orderly"])
    }

    @Test func aPatternMatchesItsNamesLiterally() {
        #expect(BrokerPermissions.exactly([]) == "^$")
        #expect(BrokerPermissions.exactly(["orderly.orders", "amq.default"]) == #"^(orderly\.orders|amq\.default)$"#)
        #expect(!matches(BrokerPermissions.exactly(["a.b"]), "aXb"))
    }

    @Test func aPasswordHashIsRabbitMQsSaltedSHA256() throws {
        // The salt, then SHA-256(salt ‖ password), in base64: what rabbitmqctl hash_password computes.
        let hash = RabbitPasswordHash.hash(password: "test12", salt: [0x90, 0x8D, 0xC6, 0x0A])
        let bytes = try #require(Data(base64Encoded: hash))
        #expect(bytes.count == 36 && Array(bytes.prefix(4)) == [0x90, 0x8D, 0xC6, 0x0A])
        #expect(RabbitPasswordHash.hash(password: "p", user: "u") == RabbitPasswordHash.hash(password: "p", user: "u"))
        #expect(RabbitPasswordHash.hash(password: "p", user: "u") != RabbitPasswordHash.hash(password: "p", user: "v"))
    }

    @Test func aSecretIsMadeOnceWithMode0600() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("orderly-secrets-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = SecretStore(directory: folder)
        let first = try store.secret("amqp-order-service")
        #expect(first.count == 43)
        #expect(try store.secret("amqp-order-service") == first)
        let attributes = try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent("amqp-order-service").path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect((try FileManager.default.attributesOfItem(atPath: folder.path)[.posixPermissions] as? Int) == 0o700)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: folder.appendingPathComponent("amqp-order-service").path)
        #expect(throws: SecretStoreError.self) { try store.secret("amqp-order-service") }
    }
}
