import Foundation
import TestSupport
import Testing

/// What a running service does when the broker takes away what it started with: it reports it in
/// `/health/ready`, keeps trying, and recovers by itself once the cause is gone.
@Suite("EndToEnd service recovery", .runningSystem(), .serialized, .timeLimit(.minutes(3)))
struct ServiceRecoveryEndToEndTests {
    @Test func aDeletedVirtualHostIsReportedAndTheServiceRecoversWhenItIsBack() async throws {
        let system = try #require(SystemUnderTest.current)
        #expect(await system.readiness("inventory-service")?.status == 200)
        try TestEnvironment.infrastructure.rabbitmqctl("delete_vhost", system.vhost)
        try await eventually(within: .seconds(30), "inventory-service reports the broker down") {
            guard let readiness = await system.readiness("inventory-service") else { return false }
            return readiness.status == 503 && readiness.body.contains("broker") && readiness.body.contains(system.vhost)
        }
        try TestEnvironment.infrastructure.rabbitmqctl("add_vhost", system.vhost)
        // A new virtual host has no permissions: the services' users get theirs again.
        try system.local.provisionBroker()
        try await eventually(within: .seconds(60), "inventory-service ready again") { await system.readiness("inventory-service")?.status == 200 }
        // Its queues came back with it: stock news published now is taken.
        let checkout = try Checkout()
        _ = try await checkout.stocked(3)
    }
}
