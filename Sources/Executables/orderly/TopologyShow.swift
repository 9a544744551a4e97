import AMQP
import ArgumentParser
import Contracts

/// `orderly topology show`: every queue of the saga with its ready messages and consumers.
struct TopologyShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Every queue of the saga with its ready messages and consumers.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    struct Queue: Encodable {
        var name: String
        var declared: Bool
        var ready: UInt32?
        var consumers: UInt32?
    }

    func run() async throws {
        let queues = try await connection.withBroker { broker in
            var queues: [Queue] = []
            for queue in Subscriptions.all.flatMap(\.topology.queues) {
                do {
                    let status = try await broker.status(ofQueue: queue.name)
                    queues.append(Queue(name: queue.name, declared: true, ready: status.messageCount, consumers: status.consumerCount))
                } catch let error as AMQPError where error.replyCode == 404 {
                    queues.append(Queue(name: queue.name, declared: false))
                }
            }
            return queues
        }
        try output.print(["queues": queues]) {
            print("queue".padding(toLength: 32, withPad: " ", startingAt: 0) + "ready  consumers")
            for queue in queues {
                let name = queue.name.padding(toLength: 32, withPad: " ", startingAt: 0)
                if let ready = queue.ready, let consumers = queue.consumers {
                    print(name + String(ready).padding(toLength: 7, withPad: " ", startingAt: 0) + "\(consumers)")
                } else {
                    print(name + "(not declared)")
                }
            }
        }
    }
}
