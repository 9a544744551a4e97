import AMQP
import Contracts
import Foundation
import LocalRun
import Logging
import Synchronization
import Timing

/// Injects a plan's faults at their times, one after another, and records what happened.
final class FaultInjector: Sendable {
    let plan: ChaosPlan
    let run: String
    let system: LocalSystem
    let observer: Observer
    let driver: LoadDriver
    let logger: Logger
    private let records = Mutex<[FaultRecord]>([])
    private let injectedPoison = Mutex<[PoisonMessage]>([])

    init(plan: ChaosPlan, run: String, system: LocalSystem, observer: Observer, driver: LoadDriver, logger: Logger) {
        self.plan = plan
        self.run = run
        self.system = system
        self.observer = observer
        self.driver = driver
        self.logger = logger
    }

    var injected: [FaultRecord] { records.withLock { $0 } }
    var poison: [PoisonMessage] { injectedPoison.withLock { $0 } }

    /// Injects every fault at its time (or as soon as the one before it is over).
    func run(on connection: AMQPConnection) async {
        let start = ContinuousClock.now
        for (number, fault) in plan.faults.enumerated() {
            try? await Task.sleep(until: start + fault.at)
            let began = ContinuousClock.now
            logger.info("injecting a fault", metadata: ["chaos.fault": "\(fault.kind.rawValue)", "chaos.target": "\(fault.target ?? "-")"])
            var violation: String?
            let note: String
            do {
                (note, violation) = try await inject(fault, number: number, on: connection)
            } catch {
                note = "failed: \(error)"
                logger.error("a fault could not be injected", metadata: ["chaos.fault": "\(fault.kind.rawValue)", "error": "\(error)"])
            }
            let record = FaultRecord(
                kind: fault.kind, target: fault.target, at: (began - start).seconds, seconds: (ContinuousClock.now - began).seconds, note: note,
                violation: violation)
            records.withLock { $0.append(record) }
        }
    }

    private func inject(_ fault: ChaosPlan.Fault, number: Int, on connection: AMQPConnection) async throws -> (String, String?) {
        switch fault.kind {
        case .kill:
            let instance = pick(fault.target, number: number)
            system.kill(instance)
            try await Task.sleep(for: fault.pause)
            try await relaunch(instance)
            return ("killed \(instance) with SIGKILL, started again after \(fault.pause)", nil)
        case .terminate:
            let instance = pick(fault.target, number: number)
            let ended = system.terminate(instance)
            try await Task.sleep(for: fault.pause)
            try await relaunch(instance)
            let clean = ended?.isClean ?? true
            return (
                "stopped \(instance) with SIGTERM: \(ended.map { "\($0)" } ?? "was not running")",
                clean ? nil : "\(instance) did not shut down cleanly: \(ended!)"
            )
        case .brokerRestart:
            try system.infrastructure.stop(.rabbitmq, quiet: true)
            try await Task.sleep(for: fault.pause)
            try system.infrastructure.start(.rabbitmq, quiet: true)
            return ("RabbitMQ stopped for \(fault.pause)", nil)
        case .databaseRestart:
            try system.infrastructure.stop(.postgres, quiet: true)
            try await Task.sleep(for: fault.pause)
            try system.infrastructure.start(.postgres, quiet: true)
            return ("PostgreSQL stopped for \(fault.pause)", nil)
        case .brokerNodeLoss:
            return try await loseLeaderNode(for: fault.pause)
        case .gatewayDown:
            let gateway = LocalSystem.Instance(SystemCatalog.gatewaySim.name)
            system.terminate(gateway)
            try await Task.sleep(for: fault.pause)
            try await relaunch(gateway)
            return ("the payment gateway was down for \(fault.pause)", nil)
        case .duplicatePublish:
            let sample = observer.sample
            for captured in sample {
                await driver.publishUntilConfirmed(captured.message, exchange: captured.exchange, routingKey: captured.routingKey, on: connection)
            }
            return ("published \(sample.count) events the services had already handled again", nil)
        case .poison:
            let poison = PoisonMessage.all(tag: "\(run)-\(number)")
            for message in poison {
                await driver.publishUntilConfirmed(message.message, exchange: message.exchange, routingKey: message.routingKey, on: connection)
            }
            injectedPoison.withLock { $0.append(contentsOf: poison) }
            return ("published \(poison.count) poison messages on every work queue and the ingress", nil)
        }
    }

    /// Stops the node that leads the most work queues of the system's virtual host, waits, and starts it again.
    ///
    /// - Throws: ``ChaosError`` when those queues have no replica elsewhere: stopping their only node is
    ///   an outage of the queue, not the loss of one node of a cluster.
    private func loseLeaderNode(for pause: Duration) async throws -> (String, String?) {
        let infrastructure = system.infrastructure
        let listing = try infrastructure.rabbitmqctl(
            ["list_queues", "-p", system.name, "name", "leader", "members", "--formatter", "json"], input: nil)
        let workQueues = Subscriptions.all.map(\.workQueue)
        guard let (node, led) = try QueueLeaders(listing: listing).busiestLeader(of: workQueues) else {
            throw ChaosError("no quorum queue among \(workQueues) has a leader")
        }
        if let lonely = led.first(where: { $0.members.count < 2 }) {
            throw ChaosError("\(lonely.name) has no replica but on \(node): a node loss needs a cluster (./infra/dev up --rabbit-nodes 3)")
        }
        try infrastructure.stop(rabbitNode: node, quiet: true)
        try await Task.sleep(for: pause)
        try infrastructure.start(rabbitNode: node, quiet: true)
        let replicas = Set(led.map(\.members.count)).sorted().map(String.init).joined(separator: " or ")
        return ("stopped \(node), leader of \(led.map(\.name).joined(separator: ", ")) (\(replicas) replicas each), for \(pause)", nil)
    }

    /// Which instance of a service a fault hits: the replicas take turns.
    private func pick(_ service: String?, number: Int) -> LocalSystem.Instance {
        let instances = system.instances(of: service ?? SystemCatalog.order.name)
        return instances[number % instances.count]
    }

    /// Starts an instance again, retrying while what it needs (the broker, the database) comes back.
    private func relaunch(_ instance: LocalSystem.Instance) async throws {
        let deadline = ContinuousClock.now + .seconds(180)
        while true {
            do {
                try await system.launch(instance)
                return
            } catch {
                system.kill(instance)
                guard ContinuousClock.now < deadline else { throw error }
                logger.warning("restart failed; trying again", metadata: ["chaos.instance": "\(instance)", "error": "\(error)"])
                try await Task.sleep(for: .seconds(1))
            }
        }
    }
}
