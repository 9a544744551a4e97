import AMQP
import Contracts
import Foundation
import LocalRun
import Logging
import Postgres
import Timing

/// A fault run: starts a whole system, drives the plan's load while injecting its faults, waits until
/// the system is quiet, and checks every invariant of the design contract against what it finds.
package struct ChaosRun: Sendable {
    package struct Options: Sendable {
        package var orders = 300
        /// Orders placed per second.
        package var rate = 10.0
        /// Faults drawn at random on top of the scheduled ones (each kind once).
        package var extraFaults = 4
        /// Only these faults, each once in this order, and the extra ones drawn from them; `nil` for one
        /// of every kind a single broker can take (see ``ChaosPlan/Fault/Kind/needsCluster``).
        package var faults: [ChaosPlan.Fault.Kind]?
        package var seed: UInt64 = UInt64.random(in: 1...UInt64(UInt32.max))
        package var system: LocalSystem.Configuration
        /// How long to wait after the load for every order to end and every queue to empty.
        package var quiescenceTimeout: Duration = .seconds(600)
        /// Keep the virtual host, database and logs afterwards (for a look at what happened).
        package var keep = false

        package init(system: LocalSystem.Configuration) { self.system = system }
    }

    package let options: Options
    package let infrastructure: LocalInfrastructure
    package let logger: Logger

    package init(options: Options, infrastructure: LocalInfrastructure, logger: Logger) {
        self.options = options
        self.infrastructure = infrastructure
        self.logger = logger
    }

    /// Runs it and returns the report; `progress` hears what happens, a line at a time.
    package func run(progress: @Sendable (String) -> Void = { _ in }) async throws -> ChaosReport {
        let run = String(UInt32(truncatingIfNeeded: options.seed &* 2_654_435_761), radix: 36)
        let name = "chaos_\(run)"
        let plan = ChaosPlan.make(
            orders: options.orders, rate: options.rate, extraFaults: options.extraFaults, seed: options.seed, run: run, faults: options.faults)
        let startedAt = Date()
        progress(
            "run \(run): \(plan.orders.count) orders over \(Int(plan.duration.seconds)) s, \(plan.faults.count) faults, \(options.system.replicas) instance(s) per service"
        )
        let system = try await LocalSystem.start(named: name, configuration: options.system, infrastructure: infrastructure, logger: logger)
        progress("system up in \(system.workDirectory.path)")
        do {
            let report = try await drive(plan, run: run, system: system, startedAt: startedAt, progress: progress)
            if !options.keep { await system.stop(logger: logger) }
            return report
        } catch {
            if !options.keep { await system.stop(logger: logger) }
            throw error
        }
    }

    private func drive(_ plan: ChaosPlan, run: String, system: LocalSystem, startedAt: Date, progress: @Sendable (String) -> Void) async throws
        -> ChaosReport
    {
        var configuration = try AMQPConfiguration(url: system.amqpURL)
        configuration.connectionName = "chaos-load"
        let connection = try await AMQPConnection.connect(configuration: configuration, logger: logger)
        defer { Task { await connection.close() } }
        let observer = Observer(run: run)
        let scraper = MetricsScraper()
        let driver = LoadDriver(plan: plan, run: run, system: system, logger: logger)
        let injector = FaultInjector(plan: plan, run: run, system: system, observer: observer, driver: driver, logger: logger)
        try await driver.stock(on: connection)
        // Bound before the first order: an event published before the observer's queue exists is heard by nobody.
        try await connection.declare(observer.topology)

        return try await withThrowingTaskGroup(of: Void.self) { background in
            background.addTask { try await observer.run(on: connection) }
            background.addTask { await scraper.run(system: system) }
            let loadStart = ContinuousClock.now
            async let faults: Void = injector.run(on: connection)
            await driver.place(on: connection)
            await faults
            let loadSeconds = (ContinuousClock.now - loadStart).seconds
            progress("load done in \(Int(loadSeconds)) s: \(driver.acceptedOrders.count) orders accepted, \(injector.injected.count) faults injected")
            let quietStart = ContinuousClock.now
            let facts = try await awaitQuiescence(plan: plan, run: run, system: system, driver: driver, observer: observer, progress: progress)
            let quiescenceSeconds = (ContinuousClock.now - quietStart).seconds
            background.cancelAll()

            let poison = Dictionary(grouping: injector.poison, by: \.parkingQueue).mapValues { Set($0.map(\.messageID)) }
            var violations = InvariantChecker.check(plan: plan, poison: poison, facts: facts)
            violations += injector.injected.compactMap { record in record.violation.map { Violation(invariant: "9 graceful shutdown", detail: $0) } }
            violations += driver.gaveUp.sorted().map { Violation(invariant: "1 accepted", detail: "plan #\($0) was never accepted by the intake") }
            let found = facts.ordersByPlan.values.flatMap { $0 }
            return ChaosReport(
                run: run, seed: options.seed, replicas: options.system.replicas, startedAt: startedAt,
                planned: Dictionary(grouping: plan.orders, by: \.kind.rawValue).mapValues(\.count), accepted: driver.acceptedOrders.count,
                notAccepted: driver.gaveUp.count, statuses: Dictionary(grouping: found, by: \.status).mapValues(\.count),
                faults: Dictionary(grouping: injector.injected, by: \.kind.rawValue).mapValues(\.count), faultLog: injector.injected,
                violations: violations, loadSeconds: loadSeconds, quiescenceSeconds: quiescenceSeconds, messagesRetried: scraper.total("retried"),
                messagesParked: facts.parked.values.map(\.count).reduce(0, +), poisonInjected: injector.poison.count,
                poisonParked: facts.parked.values.flatMap { $0 }.filter { message in injector.poison.contains { $0.messageID == message.messageID } }
                    .count
            )
        }
    }

    /// Waits until every order has ended and nothing is left in a work queue, retry queue or outbox,
    /// then returns what the system looks like; after the timeout, returns it as it is.
    private func awaitQuiescence(
        plan: ChaosPlan, run: String, system: LocalSystem, driver: LoadDriver, observer: Observer, progress: @Sendable (String) -> Void
    ) async throws -> SystemFacts {
        let reader = FactReader(plan: plan, run: run, system: system, logger: logger)
        let deadline = ContinuousClock.now + options.quiescenceTimeout
        var progressReports = Throttle(every: .seconds(15), since: .now)
        while true {
            let (open, backlog) = (try? await reader.quiet()) ?? (-1, ["unreadable": 1])
            let waiting = backlog.values.reduce(0, +)
            if open == 0 && waiting == 0 {
                // Settled: one more look after the outcome events had time to be announced.
                try await Task.sleep(for: .seconds(3))
                return try await reader.read(accepted: driver.acceptedOrders, announced: observer.announcements)
            }
            if ContinuousClock.now >= deadline {
                progress("not quiet after \(options.quiescenceTimeout): \(open) orders open, waiting: \(backlog)")
                return try await reader.read(accepted: driver.acceptedOrders, announced: observer.announcements)
            }
            if progressReports.allows() {
                progress("waiting for quiescence: \(open) orders open, \(waiting) messages waiting")
            }
            try await Task.sleep(for: .seconds(2))
        }
    }
}
