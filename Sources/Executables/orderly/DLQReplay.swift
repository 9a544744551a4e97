import ArgumentParser
import Messaging

/// `orderly dlq replay SERVICE --message-id ID | --all`: parked messages back to work, with their history.
struct DLQReplay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Send parked messages back to the service's work queue, keeping their history; the service then processes them.",
        discussion: """
            Every x-orderly-* header of the parking (reason, time, last error, failure kind, original exchange and routing key) \
            and the broker's x-death stay; x-orderly-replays counts the replays and x-orderly-replayed-at says when. The \
            retries start again: x-orderly-attempts moves to x-orderly-previous-attempts. A message that fails again \
            goes through the retry tiers, or is parked again.
            """)
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var target: DLQCommand.Target
    @OptionGroup var selection: DLQCommand.Selection

    func run() async throws {
        let (queues, replayed) = try await connection.withParkingQueue(target) { parking, broker in
            (parking.queues, try await parking.replay(ids: selection.ids, limit: ParkingQueue.maxMessages, on: broker))
        }
        if replayed.isEmpty, let id = selection.messageID {
            throw Failure(.failure, "no parked message with id '\(id)' in \(queues.parkingQueue)")
        }
        print("replayed \(replayed.count) message(s) from \(queues.parkingQueue) to \(queues.workQueue)")
        for id in replayed { print("- id: \(id.isEmpty ? "-" : id)") }
    }
}
