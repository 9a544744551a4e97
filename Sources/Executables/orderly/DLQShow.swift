import ArgumentParser
import Contracts
import Foundation
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

    @Option(help: "Read at most this many parked messages.")
    var limit: Int?

    struct Report: Encodable {
        var queue: String
        var messages: [ParkedMessage.Detail]
    }

    func run() async throws {
        let (queue, listing) = try await connection.withParkingQueue(target) { parking in (parking.name, try await parking.list(limit: limit)) }
        let shown = listing.messages.filter { message in messageID.map { message.messageID == $0 } ?? true }
        if let messageID, shown.isEmpty {
            throw Failure(.failure, "no parked message with id '\(messageID)' in \(queue) (\(listing.count) parked)")
        }
        try output.print(Report(queue: queue, messages: shown.map(\.detail))) {
            if shown.isEmpty { print("\(queue): nothing parked") }
            for (index, message) in shown.enumerated() {
                if index > 0 { print("") }
                print(message.fullText(in: queue))
            }
        }
    }
}

extension ParkedMessage {
    /// Everything about the message, for a terminal: properties, headers in name order, the body (pretty when it is JSON).
    func fullText(in queue: String) -> String {
        var lines = ["\(queue): message \(messageID ?? "-")", "properties:"]
        let table = propertyTable
        for name in table.keys.sorted() { lines.append("  \(name): \(JSONValue(table[name]!))") }
        lines.append("headers:")
        for name in properties.headers.keys.sorted() { lines.append("  \(name): \(JSONValue(properties.headers[name]!))") }
        lines.append("body (\(body.count) bytes):")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        if let json = try? JSONDecoder().decode(JSONValue.self, from: Data(body)), let pretty = try? encoder.encode(json) {
            lines.append(String(decoding: pretty, as: UTF8.self))
        } else {
            lines.append(text ?? Data(body).base64EncodedString())
        }
        return lines.joined(separator: "\n")
    }
}
