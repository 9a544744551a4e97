import Chaos
import Foundation
import LocalRun
import TestSupport
import Testing

/// The short form of `orderly chaos`: a few hundred orders with every fault kind at least once, then
/// every invariant checked. Really kills services and restarts the shared broker and database, so it
/// runs in the serial fault pass.
@Suite("Chaos Fault", .serialized, .timeLimit(.minutes(12)))
struct ChaosFaultTests {
    static func run(orders: Int, rate: Double, replicas: Int) async throws -> ChaosReport {
        var system = LocalSystem.Configuration(
            binDirectory: TestEnvironment.binDirectory, amqpURL: TestEnvironment.amqpURL, databaseURL: TestEnvironment.databaseURL)
        system.replicas = replicas
        system.secrets = TestEnvironment.secrets
        system.sagaDeadline = .seconds(240)
        var options = ChaosRun.Options(system: system)
        options.orders = orders
        options.rate = rate
        options.extraFaults = 1
        options.quiescenceTimeout = .seconds(300)
        let report = try await ChaosRun(options: options, infrastructure: TestEnvironment.infrastructure, logger: TestEnvironment.logger("chaos"))
            .run { print("chaos: \($0)") }
        print(report.markdown)
        return report
    }

    static func expectEverythingHeld(_ report: ChaosReport) {
        #expect(report.violations.isEmpty, "\(report.violations.map(\.description).joined(separator: "\n"))")
        #expect(Set(report.faults.keys) == Set(ChaosPlan.Fault.Kind.allCases.filter { !$0.needsCluster }.map(\.rawValue)))
        #expect(report.notAccepted == 0)
        #expect(report.poisonParked >= report.poisonInjected)
        #expect(
            report.statuses["COMPLETED", default: 0] > 0 && report.statuses["CANCELLED", default: 0] > 0 && report.statuses["FAILED", default: 0] > 0)
    }

    @Test func everyInvariantHoldsThroughEveryKindOfFault() async throws {
        Self.expectEverythingHeld(try await Self.run(orders: 250, rate: 8, replicas: 1))
    }

    @Test func everyInvariantHoldsWithTwoInstancesOfEveryServiceCompeting() async throws {
        Self.expectEverythingHeld(try await Self.run(orders: 150, rate: 8, replicas: 2))
    }
}
