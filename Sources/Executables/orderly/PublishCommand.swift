import AMQP
import ArgumentParser
import Contracts
import Foundation
import Messaging

/// `orderly publish`: publish an ingress event as another system would.
struct PublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publish an event on the orderly.ingress exchange.",
        subcommands: [OrderRequested.self, StockAdjustment.self]
    )

    struct EventOptions: ParsableArguments {
        @Option(help: "The event id; publishing twice with one id has one effect.")
        var eventID = UUID().uuidString.lowercased()

        @Option(help: "The CloudEvents source.")
        var source = "/orderly/cli"
    }

    struct OrderRequested: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "order-requested",
            abstract: "Request an order; the body is the JSON of POST /v1/orders, from a file or standard input."
        )
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var event: EventOptions
        @Argument(help: "A file with the order JSON; '-' or nothing for standard input.")
        var file: String = "-"

        func run() async throws {
            let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: file))
            let request = try JSONDecoder().decode(OrderRequest.self, from: data)
            let cloudEvent = try CloudEvent(
                id: event.eventID, source: event.source, type: EventType.orderRequested.rawValue, subject: request.customer.id, payload: request
            )
            try await connection.publish(cloudEvent)
        }
    }

    struct StockAdjustment: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "stock-adjusted", abstract: "Change the stock of a SKU by a delta.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var event: EventOptions
        @Option(help: "The SKU.") var sku: String
        @Option(help: "Units to add (negative to remove).") var delta: Int
        @Option(help: "Why, for the adjustments log.") var reason = "manual adjustment"

        func run() async throws {
            let cloudEvent = try CloudEvent(
                id: event.eventID, source: event.source, type: EventType.stockAdjusted.rawValue, subject: sku,
                payload: StockAdjusted(sku: sku, delta: delta, reason: reason)
            )
            try await connection.publish(cloudEvent)
        }
    }
}

extension ConnectionOptions {
    /// Publishes an ingress event with a confirm and says so.
    func publish(_ event: CloudEvent) async throws {
        try await withBroker { try await $0.publish(event.amqpMessage(), exchange: Exchange.ingress, routingKey: event.type) }
        print("published \(event.type) \(event.id)")
    }
}
