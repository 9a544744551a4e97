import ArgumentParser
import Contracts
import Foundation
import Messaging
import OperatorKit

/// `orderly dlq show SERVICE [--message-id ID]`: parked messages in full.
struct DLQShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Print parked messages in full: properties, every header (x-death included) and the body; they stay parked.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var target: DLQCommand.Target
    @OptionGroup var output: OutputOptions

    @Option(help: "Only the parked message(s) with this message id (the event id); without it, every parked message.")
    var messageID: String?

    @Option(help: "Read at most this many parked messages (at most \(ParkingQueue.maxMessages)).")
    var limit = ParkingQueue.maxMessages

    struct Report: Encodable {
        var queue: String
        var messages: [ParkedMessageDetail]
    }

    func run() async throws {
        let (queue, count, messages) = try await connection.withParkingQueue(target) { parking, broker in
            let (count, messages) = try await parking.details(limit: limit, on: broker)
            return (parking.queues.parkingQueue, count, messages)
        }
        let shown = messages.filter { message in messageID.map { message.summary.messageID == $0 } ?? true }
        if let messageID, shown.isEmpty {
            throw Failure(.failure, "no parked message with id '\(messageID)' in \(queue) (\(count) parked)")
        }
        try output.print(Report(queue: queue, messages: shown)) {
            if shown.isEmpty { print("\(queue): nothing parked") }
            for (index, message) in shown.enumerated() {
                if index > 0 { print("") }
                print(message.fullText(in: queue))
            }
        }
    }
}

extension ParkedMessageDetail {
    /// Everything about the message, for a terminal: properties, headers in name order, the body (pretty when it is JSON).
    func fullText(in queue: String) -> String {
        var lines = ["\(queue): message \(summary.messageID ?? "-")", "properties:"]
        for name in properties.keys.sorted() { lines.append("  \(name): \(properties[name]!)") }
        lines.append("headers:")
        for name in headers.keys.sorted() { lines.append("  \(name): \(headers[name]!)") }
        lines.append("body (\(summary.bodyBytes) bytes):")
        switch body {
        case .json(let value):
            lines.append((try? JSONEncoder.report.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? value.description)
        case .text(let text), .base64(let text):
            lines.append(text)
        }
        return lines.joined(separator: "\n")
    }
}
