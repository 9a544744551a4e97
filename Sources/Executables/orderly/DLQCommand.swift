import AMQP
import ArgumentParser
import Contracts
import Messaging
import MessagingConventions
import OperatorKit

/// `orderly dlq`: a service's parking queue (`<service>.dead`), where messages that cannot succeed wait for an operator.
struct DLQCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "List, show, replay or purge a service's parked messages (its dead-letter queue, <service>.dead).",
        discussion: """
            A message is parked when it can never succeed (malformed, unknown type, invalid) or has exhausted its retries, \
            with headers that say why, when and after how many attempts. Replay sends it back to the service's work queue \
            with its history; purge removes it for good.
            """,
        subcommands: [DLQList.self, DLQShow.self, DLQReplay.self, DLQPurge.self]
    )

    /// The service whose parking queue to use.
    struct Target: ParsableArguments {
        @Argument(help: "The service: order, payment, inventory or notification (or its process name, payment-service).")
        var service: String

        func validate() throws {
            do {
                _ = try Subscriptions.queues(ofService: service)
            } catch {
                throw ValidationError(error.description)
            }
        }

        var queues: ServiceQueues { get throws { try Subscriptions.queues(ofService: service) } }
    }

    /// `--message-id ID` or `--all`: which parked messages a replay or a purge is for.
    struct Selection: ParsableArguments {
        @Option(help: "Only the parked message(s) with this message id (the event id).")
        var messageID: String?

        @Flag(help: "Every parked message.")
        var all = false

        func validate() throws {
            guard (messageID != nil) != all else { throw ValidationError("say which messages: --message-id ID or --all") }
        }

        /// The message ids chosen, or `nil` for every message.
        var ids: Set<String>? { messageID.map { [$0] } }
    }
}

/// `orderly dead`: the former name of `orderly dlq`, kept so that scripts written for it still run.
struct DeadLettersAlias: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead", abstract: "The former name of 'orderly dlq'.", shouldDisplay: false,
        subcommands: DLQCommand.configuration.subcommands)
}

extension ConnectionOptions {
    /// Runs `body` on the parking queue of `target`'s service, over the operator's connection.
    func withParkingQueue<T>(_ target: DLQCommand.Target, _ body: (ParkingQueue, AMQPConnection) async throws -> T) async throws -> T {
        let queues = try target.queues
        return try await withBroker { broker in
            do {
                return try await body(ParkingQueue(queues: queues), broker)
            } catch let error as AMQPError where error.replyCode == 404 {
                throw Failure(
                    .failure, "\(queues.parkingQueue) does not exist on the broker: run 'orderly topology declare' (or check the virtual host)")
            }
        }
    }
}
