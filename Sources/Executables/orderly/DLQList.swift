import ArgumentParser
import Foundation
import Messaging

/// `orderly dlq list SERVICE`: how many messages are parked, and a line or two about each.
struct DLQList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Count the parked messages and summarise each: type, reason, attempts, when; they stay parked.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var target: DLQCommand.Target
    @OptionGroup var output: OutputOptions

    @Option(help: "Summarise at most this many (the count is always the whole queue's; at most \(ParkingQueue.maxMessages)).")
    var limit = ParkingQueue.maxMessages

    struct Report: Encodable {
        var queue: String
        var count: Int
        var messages: [ParkedMessage]
    }

    func run() async throws {
        let listing = try await connection.withParkingQueue(target) { parking, broker in try await parking.peek(limit: limit, on: broker) }
        try output.print(Report(queue: listing.queue, count: listing.count, messages: listing.messages)) {
            print("\(listing.queue): \(listing.count) parked")
            for message in listing.messages { print(message.summaryText) }
            if listing.messages.count < listing.count { print("… and \(listing.count - listing.messages.count) more (--limit)") }
        }
    }
}

extension ParkedMessage {
    /// Two or three lines about the message, for a terminal.
    var summaryText: String {
        var attempts = self.attempts.map(String.init) ?? "-"
        if let failureKind { attempts += " (\(failureKind))" }
        var lines = [
            "- id: \(messageID ?? "-")  type: \(type ?? "-")",
            "  reason: \(reason ?? "-")",
            "  attempts: \(attempts)  parked at: \(parkedAt.map { $0.formatted(.iso8601) } ?? "-")",
        ]
        if replays > 0 { lines[2] += "  replayed \(replays) time(s) before" }
        return lines.joined(separator: "\n")
    }
}
