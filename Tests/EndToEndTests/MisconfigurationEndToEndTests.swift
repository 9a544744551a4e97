import Contracts
import Foundation
import LocalRun
import Postgres
import TestSupport
import Testing

/// Every misconfiguration ends a service with one line naming what is wrong and a non-zero status:
/// 78 for a setting, a refused login or a missing grant, 69 for something not there. Never a crash.
@Suite("EndToEnd misconfiguration", .timeLimit(.minutes(3)))
struct MisconfigurationEndToEndTests {
    /// The broker URL as `user` (by default a service's own, with its provisioned password), or with `password`;
    /// with `port`, the only address of a broker that is not there.
    static func amqpURL(user: String = "inventory-service", password: String? = nil, vhost: String? = nil, port: Int? = nil) throws -> String {
        var url = URLComponents(string: password == nil ? try TestEnvironment.amqpURL(asUser: user) : TestEnvironment.amqpURL)!
        if let password {
            url.user = user
            url.password = password
        }
        if let vhost { url.percentEncodedPath = "/" + vhost }
        if let port {
            // A broker that is not there: on a cluster, without the other nodes to fall back on.
            url.port = port
            url.queryItems = url.queryItems?.filter { $0.name != "failover" }
            if url.queryItems?.isEmpty == true { url.queryItems = nil }
        }
        return url.string!
    }

    /// The database URL as `role` (with its provisioned password), or with `password`.
    static func databaseURL(role: String, password: String? = nil, port: Int? = nil, database: String? = nil) throws -> String {
        var url = URLComponents(string: password == nil ? try TestEnvironment.databaseURL(asRole: role) : TestEnvironment.databaseURL)!
        if let password {
            url.user = role
            url.password = password
        }
        if let port { url.port = port }
        if let database { url.path = "/" + database }
        return url.string!
    }

    /// What `service` needs to start: the broker, its own database role, a free port; `overrides` break one of them.
    static func environment(for service: String, _ overrides: [String: String] = [:]) throws -> [String: String] {
        let descriptor = try #require(SystemCatalog.service(named: service))
        return [
            "ORDERLY_AMQP_URL": try amqpURL(user: descriptor.brokerUser),
            "ORDERLY_DATABASE_URL": try databaseURL(role: descriptor.databaseRole),
            "ORDERLY_HTTP_PORT": "\(try SystemUnderTest.freePort())",
        ].merging(overrides) { _, override in override }
    }

    static func expectCleanFailure(
        _ service: String, _ overrides: [String: String], status: Int32, saying expected: String, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        try await ServiceProcess.expectCleanFailure(
            service, environment: try environment(for: service, overrides), status: status, saying: expected, sourceLocation: sourceLocation)
    }

    @Test func anUnknownVirtualHost() async throws {
        try await Self.expectCleanFailure(
            "inventory-service", ["ORDERLY_AMQP_URL": try Self.amqpURL(vhost: "no-such-vhost")], status: 78, saying: "virtual host 'no-such-vhost'")
    }

    @Test func aWrongBrokerPassword() async throws {
        try await Self.expectCleanFailure(
            "payment-service", ["ORDERLY_AMQP_URL": try Self.amqpURL(user: "payment-service", password: "wrong")], status: 78,
            saying: "the broker refused user 'payment-service'")
    }

    @Test func anUnreachableBroker() async throws {
        try await Self.expectCleanFailure(
            "notification-service",
            [
                "ORDERLY_AMQP_URL": try Self.amqpURL(user: "notification-service", port: try SystemUnderTest.freePort()),
                // A wait that runs out whatever the machine, so a short one; the services that must reach the broker
                // and the database keep the default 30 s, as logging in on a busy machine can take a few seconds.
                "ORDERLY_STARTUP_TIMEOUT_SECONDS": "3",
            ],
            status: 69,
            saying: "cannot reach the broker")
    }

    @Test func aBrokerUserWithoutPermissions() async throws {
        let user = TestEnvironment.uniqueName("noperm")
        try TestEnvironment.infrastructure.rabbitmqctl("add_user", user, "secret")
        try TestEnvironment.infrastructure.rabbitmqctl("set_permissions", "-p", "/", user, "^$", "^$", "^$")
        try await Self.expectCleanFailure(
            "inventory-service", ["ORDERLY_AMQP_URL": try Self.amqpURL(user: user, password: "secret")], status: 78,
            saying: "refused to declare the service's exchanges and queues as user \(user)")
        try TestEnvironment.infrastructure.rabbitmqctl("delete_user", user)
    }

    @Test func aWrongDatabasePassword() async throws {
        try await Self.expectCleanFailure(
            "order-service", ["ORDERLY_DATABASE_URL": try Self.databaseURL(role: "orders", password: "wrong")], status: 78,
            saying: "refused role orders")
    }

    @Test func anUnreachableDatabase() async throws {
        try await Self.expectCleanFailure(
            "gateway-sim",
            [
                "ORDERLY_DATABASE_URL": try Self.databaseURL(role: "gateway", port: try SystemUnderTest.freePort()),
                // A wait that runs out whatever the machine, as for the broker above.
                "ORDERLY_STARTUP_TIMEOUT_SECONDS": "3",
            ],
            status: 69,
            saying: "cannot reach PostgreSQL")
    }

    @Test func aRoleWithoutRightsOnTheServiceSchema() async throws {
        // A fresh database: the payments role may connect, but not create the orders schema there.
        let name = TestEnvironment.uniqueName("e2e_role")
        let admin = try PostgresPool.forTesting(size: 1)
        try await admin.execute("CREATE DATABASE \(identifier: name)")
        try await Self.expectCleanFailure(
            "order-service", ["ORDERLY_DATABASE_URL": try Self.databaseURL(role: "payments", database: name)], status: 78,
            saying: "cannot migrate schema orders as role payments")
        try await admin.execute("DROP DATABASE \(identifier: name) WITH (FORCE)")
        await admin.close()
    }

    @Test func aTakenHTTPPort() async throws {
        let listener = try Listener()
        try await Self.expectCleanFailure("gateway-sim", ["ORDERLY_HTTP_PORT": "\(listener.port)"], status: 69, saying: "the address is in use")
        listener.close()
    }

    @Test func aSettingThatDoesNotParse() async throws {
        try await Self.expectCleanFailure("order-service", ["ORDERLY_HTTP_PORT": "eighty"], status: 78, saying: "ORDERLY_HTTP_PORT must be")
        try await Self.expectCleanFailure("payment-service", ["ORDERLY_AMQP_URL": "http://not-amqp"], status: 78, saying: "ORDERLY_AMQP_URL")
    }
}

/// A socket listening on a free loopback port, so that a service finds its port taken.
struct Listener {
    let descriptor: Int32
    let port: Int

    init() throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let descriptor = self.descriptor
        let listening = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sockaddr in
                bind(descriptor, sockaddr, length) == 0 && listen(descriptor, 1) == 0 && getsockname(descriptor, sockaddr, &length) == 0
            }
        }
        guard listening else { throw POSIXError(.EADDRNOTAVAIL) }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { _ = Glibc.close(descriptor) }
}
