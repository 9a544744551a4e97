import ArgumentParser
import Messaging
import OperatorKit

/// `orderly dlq purge SERVICE --message-id ID | --all --yes`: parked messages removed for good.
struct DLQPurge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge", abstract: "Remove parked messages for good; asks for --yes.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var target: DLQCommand.Target
    @OptionGroup var selection: DLQCommand.Selection

    @Flag(help: "Yes, remove them: nothing brings them back.")
    var yes = false

    func validate() throws {
        guard yes else {
            throw ValidationError("purge removes parked messages for good: run it again with --yes (orderly dlq list shows what is there)")
        }
    }

    func run() async throws {
        let (queue, removed) = try await connection.withParkingQueue(target) { parking, broker in
            (parking.queues.parkingQueue, try await parking.purge(ids: selection.ids, on: broker))
        }
        if removed.count == 0, let id = selection.messageID {
            throw Failure(.failure, "no parked message with id '\(id)' in \(queue)")
        }
        print("removed \(removed.count) message(s) from \(queue)")
        for message in removed.removed { print("- id: \(message.messageID ?? "-")  type: \(message.type ?? "-")") }
    }
}
