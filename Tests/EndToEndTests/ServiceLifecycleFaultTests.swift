import Foundation
import TestSupport
import Testing

/// Shutting down while the broker is away, and coming back after an outage longer than any request timeout.
@Suite("EndToEnd service lifecycle Fault", .runningSystem(), .serialized, .timeLimit(.minutes(4)))
struct ServiceLifecycleFaultTests {
    @Test func aLongBrokerOutageIsReportedAndSurvivedAndShutdownCompletesWhileTheBrokerIsAway() async throws {
        let system = try #require(SystemUnderTest.current)
        try Infrastructure.rabbitmq.stop()
        try await eventually(within: .seconds(30), "payment-service reports the broker down") {
            await system.readiness("payment-service")?.status == 503
        }
        // Longer than the 15 s in which a declare or consume must be answered.
        try await Task.sleep(for: .seconds(20))
        try Infrastructure.rabbitmq.start()
        try await eventually(within: .seconds(60), "payment-service ready again") { await system.readiness("payment-service")?.status == 200 }
        let checkout = try Checkout()
        let sku = try await checkout.stocked(2)
        let id = try await checkout.place(sku: sku, quantity: 1)
        #expect(try await checkout.settled(id, within: .seconds(60)).status == "COMPLETED")

        try Infrastructure.rabbitmq.stop()
        try await eventually(within: .seconds(30), "inventory-service reports the broker down") {
            await system.readiness("inventory-service")?.status == 503
        }
        let stopped = try #require(system.terminate("inventory-service"))
        #expect(stopped.isClean, "\(stopped)")
        #expect(stopped.took < .seconds(15), "graceful shutdown took \(stopped.took)")
        try Infrastructure.rabbitmq.start()
        try await system.launch("inventory-service")
    }
}
