import AMQP
import Contracts
import Foundation
import LocalRun
import Logging
import Messaging
import Postgres

/// A bench: a whole system of its own, orders offered at fixed rates through the real HTTP intake,
/// outcomes heard on `orderly.orders`, and what every process spent.
package struct BenchRun: Sendable {
    package struct Options: Sendable {
        package var system: LocalSystem.Configuration
        /// The rate of a single step; with `search`, where the search starts.
        package var rate = 100.0
        package var duration: Duration = .seconds(30)
        package var warmup: Duration = .seconds(5)
        /// Look for the highest rate that keeps end-to-end p99 under `p99Bound`.
        package var search = false
        package var p99Bound: Duration = .seconds(1)
        /// Measure the commit and publish limits of the machine as well.
        package var limits = false

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

    package func run(progress: @Sendable (String) -> Void) async throws -> BenchReport {
        let run = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let system = try await LocalSystem.start(named: "bench_\(run)", configuration: options.system, infrastructure: infrastructure, logger: logger)
        progress("system up: \(system.instances.count) processes in \(system.workDirectory.path)")
        do {
            let report = try await measure(run: run, system: system, progress: progress)
            await system.stop(logger: logger)
            return report
        } catch {
            await system.stop(logger: logger)
            throw error
        }
    }

    private func measure(run: String, system: LocalSystem, progress: @Sendable (String) -> Void) async throws -> BenchReport {
        var amqp = try AMQPConfiguration(url: system.amqpURL)
        amqp.connectionName = "bench"
        let connection = try await AMQPConnection.connect(configuration: amqp, logger: logger)
        defer { Task { await connection.close() } }
        let mix = OrderMix(run: run, skus: (1...8).map { "BENCH-\(run)-\($0)" }, scarceSKU: "BENCH-\(run)-SCARCE")
        try await stock(mix, on: connection, system: system)

        var steps: [BenchStep] = []
        var rate = options.rate
        var (passing, failing): (Double?, Double?) = (nil, nil)
        while true {
            progress("offering \(Int(rate)) orders/s for \(Int(options.duration.seconds)) s (after \(Int(options.warmup.seconds)) s of warm-up)")
            let step = try await self.step(rate: rate, mix: mix, number: steps.count, system: system, connection: connection)
            steps.append(step)
            let kept = step.passed(p99Bound: options.p99Bound)
            progress(
                "\(Int(rate))/s offered: \(Int(step.completedPerSecond))/s completed, end-to-end p99 \(Int(step.endToEnd.p99)) ms, "
                    + "\(String(format: "%.2f", step.totalCPUMillisecondsPerOrder)) ms CPU per order: \(kept ? "kept up" : "fell behind")")
            guard options.search else { break }
            if kept { passing = max(passing ?? 0, rate) } else { failing = min(failing ?? .infinity, rate) }
            if let failing, let passing {
                guard failing - passing > max(10, passing * 0.05) else { break }
                rate = ((passing + failing) / 2).rounded()
            } else if let failing {
                guard failing > 20 else { break }
                rate = (failing / 2).rounded()
            } else {
                rate = (rate * 1.5).rounded()
            }
            // Let the backlog of a failed step drain before the next.
            try await settle(system)
        }
        var limits: Limits?
        if options.limits {
            progress("measuring the limits of PostgreSQL and RabbitMQ on this machine")
            limits = Limits(
                commitsPerSecond: try await Limits.commits(databaseURL: system.databaseURL, logger: logger),
                publishesPerSecond: try await Limits.publishes(amqpURL: system.amqpURL, logger: logger))
        }
        return BenchReport(
            run: run, date: Date(), machine: Self.machine, replicas: options.system.replicas,
            p99BoundMilliseconds: options.p99Bound.seconds * 1000, steps: steps, limits: limits)
    }

    /// One rate: warm-up, the measured window, then a drain that waits for the outcomes.
    private func step(rate: Double, mix: OrderMix, number: Int, system: LocalSystem, connection: AMQPConnection) async throws -> BenchStep {
        let intakes = system.instances(of: SystemCatalog.order.name).map(system.url)
        let warmupStart = ContinuousClock.now
        let measuredStart = warmupStart + options.warmup
        let timeline = Timeline(start: measuredStart)
        let load = OpenLoopLoad(intakeURLs: intakes, apiKey: options.system.apiKey, mix: mix, timeline: timeline)
        let listener = OutcomeListener(run: "\(mix.run)-\(number)", load: load)
        let meter = ProcessMeter(groups: meterGroups(system))
        let first = number * 10_000_000
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await listener.run(on: connection) }
            await load.offer(rate: rate, for: options.warmup, from: warmupStart, record: false, numbering: first)
            let before = meter.sample()
            let databaseBefore = try await databaseCounters(system)
            await load.offer(rate: rate, for: options.duration, from: measuredStart, record: true, numbering: first + 5_000_000)
            let measuredEnd = ContinuousClock.now
            let after = meter.sample()
            let databaseAfter = try await databaseCounters(system)
            // The outcomes of the last orders, and of a backlog, are still on their way.
            let drainUntil = ContinuousClock.now + .seconds(60)
            while load.open > 0 && ContinuousClock.now < drainUntil { try await Task.sleep(for: .milliseconds(200)) }
            group.cancelAll()
            await load.shutdown()

            let window = (measuredEnd - measuredStart).seconds
            let seconds = timeline.seconds
            let completedInWindow = seconds.filter { Double($0.second) < window }.map(\.completed).reduce(0, +)
            let completed = max(1, Double(completedInWindow))
            var perOrder = databaseAfter.merging(databaseBefore) { $0 - $1 }.mapValues { $0 / completed }
            perOrder["published"] = perOrder.removeValue(forKey: "outbox")
            return BenchStep(
                offeredRate: rate, seconds: window,
                acceptedPerSecond: Double(seconds.filter { Double($0.second) < window }.map(\.accepted).reduce(0, +)) / window,
                completedPerSecond: Double(completedInWindow) / window, intake: load.intake.summary, endToEnd: listener.endToEnd.summary,
                outcomes: load.outcomes, unfinished: load.open,
                cpuMillisecondsPerOrder: after.cpuSeconds.merging(before.cpuSeconds) { $0 - $1 }.mapValues { $0 * 1000 / completed },
                peakResidentMiB: after.peakResidentBytes.mapValues { Double($0) / 1_048_576 }, perOrder: perOrder, timeline: seconds)
        }
    }

    /// Waits (up to two minutes) until no order is open, so that a step does not start behind the last one's backlog.
    private func settle(_ system: LocalSystem) async throws {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let open = try await system.withDatabase(logger: logger) { pool in
                try await pool.query(
                    "SELECT count(*) FROM \(identifier: SystemCatalog.order.schema).orders WHERE status IN ('PENDING', 'PAID', 'REFUNDING')"
                )[0].decode(Int.self, 0)
            }
            if open == 0 { return }
            try await Task.sleep(for: .seconds(1))
        }
    }

    /// Plenty of stock on the ordinary SKUs, a little on the scarce one.
    private func stock(_ mix: OrderMix, on connection: AMQPConnection, system: LocalSystem) async throws {
        for (sku, units) in mix.skus.map({ ($0, 10_000_000) }) + [(mix.scarceSKU, 20)] {
            let event = try CloudEvent(
                source: "/bench/warehouse", type: EventType.stockAdjusted.rawValue, subject: sku,
                payload: StockAdjusted(sku: sku, delta: units, reason: "bench"))
            try await connection.publish(event.amqpMessage(), exchange: Exchange.ingress, routingKey: event.type)
        }
        let inventory = LocalSystem.Instance(SystemCatalog.inventory.name)
        let deadline = ContinuousClock.now + .seconds(30)
        while try await system.request(.GET, to: inventory, path: "/v1/stock/\(mix.scarceSKU)").status != 200 {
            guard ContinuousClock.now < deadline else { throw BenchError("inventory never showed the bench's stock") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Each service instance by its pid, RabbitMQ, PostgreSQL, and the bench itself.
    private func meterGroups(_ system: LocalSystem) -> [ProcessMeter.Group] {
        var groups = Dictionary(grouping: system.instances, by: \.service).map { service, instances in
            ProcessMeter.Group(name: service, selector: .pids(instances.compactMap(system.pid)))
        }
        if let rabbitmq = infrastructure.pid(of: .rabbitmq) { groups.append(ProcessMeter.Group(name: "rabbitmq", selector: .tree(rabbitmq))) }
        if let postgres = infrastructure.pid(of: .postgres) { groups.append(ProcessMeter.Group(name: "postgresql", selector: .tree(postgres))) }
        groups.append(ProcessMeter.Group(name: "bench", selector: .pids([getpid()])))
        return groups
    }

    /// The system database's commits and row counts, and the events written to every outbox.
    private func databaseCounters(_ system: LocalSystem) async throws -> [String: Double] {
        try await system.withDatabase(logger: logger) { pool in
            let row = try await pool.query(
                """
                SELECT xact_commit, tup_inserted, tup_updated, tup_returned + tup_fetched
                FROM pg_stat_database WHERE datname = current_database()
                """
            )[0]
            var outbox = 0
            for service in SystemCatalog.all where service.exchange != nil {
                // Rows leave the outbox once published; its sequence counts every row ever written.
                outbox += try await pool.query("SELECT last_value FROM \(identifier: service.schema).outbox_id_seq")[0].decode(Int.self, 0)
            }
            return [
                "commits": Double(try row.decode(Int.self, 0)), "inserted": Double(try row.decode(Int.self, 1)),
                "updated": Double(try row.decode(Int.self, 2)), "read": Double(try row.decode(Int.self, 3)), "outbox": Double(outbox),
            ]
        }
    }

    static var machine: String {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let memory = ProcessInfo.processInfo.physicalMemory / 1_073_741_824
        return "\(cores) cores, \(memory) GiB"
    }
}

/// A bench could not be carried out.
package struct BenchError: Error, CustomStringConvertible {
    package var description: String

    package init(_ description: String) { self.description = description }
}
