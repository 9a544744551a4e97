import AMQP
import ArgumentParser
import Contracts
import Foundation
import Ingress
import Messaging

/// `orderly publish`: publish an ingress event as another system would, checked against its schema first.
struct PublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publish an event on the orderly.ingress exchange, after checking it against its schema.",
        discussion: """
            The data is checked with the rules the consuming service applies, which ContractsTests keeps equal to the \
            message schemas of docs/asyncapi.yaml: an event that does not satisfy them is refused, with every offending \
            field and what it must be, and nothing is sent (exit status 1).
            """,
        subcommands: [PublishOrderRequested.self, PublishStockAdjusted.self]
    )

    struct EventOptions: ParsableArguments {
        @Option(help: "The event id; publishing twice with one id has one effect.")
        var eventID = UUID().uuidString.lowercased()

        @Option(help: "The CloudEvents source.")
        var source = "/orderly/cli"
    }
}

/// `orderly publish order-requested FILE`: an order, as `POST /v1/orders` takes it, through the ingress exchange.
struct PublishOrderRequested: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "order-requested",
        abstract: "Request an order; the data is the JSON of POST /v1/orders, from a file or standard input."
    )
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var event: PublishCommand.EventOptions
    @Argument(help: "A file with the order JSON; '-' or nothing for standard input.")
    var file: String = "-"

    func run() async throws {
        let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: file))
        let request = try IngressValidation.orderRequest(data)
        let cloudEvent = try CloudEvent(
            id: event.eventID, source: event.source, type: EventType.orderRequested.rawValue, subject: request.customer.id, payload: request
        )
        try await connection.publish(cloudEvent)
    }
}

/// `orderly publish stock-adjusted --sku … --delta …`: a change of stock, as a warehouse system sends it.
struct PublishStockAdjusted: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stock-adjusted", abstract: "Change the available stock of a SKU by a delta (negative to remove units).")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var event: PublishCommand.EventOptions
    @Option(help: "The SKU.") var sku: String
    @Option(parsing: .unconditional, help: "Units to add (negative to remove).") var delta: Int
    @Option(help: "Why, for the adjustments log.") var reason = "manual adjustment"

    func run() async throws {
        let adjustment = StockAdjusted(sku: sku, delta: delta, reason: reason)
        let violations = IngressValidation.violations(of: adjustment)
        guard violations.isEmpty else { throw IngressRefusal(type: .stockAdjusted, violations: violations) }
        let cloudEvent = try CloudEvent(
            id: event.eventID, source: event.source, type: EventType.stockAdjusted.rawValue, subject: sku, payload: adjustment)
        try await connection.publish(cloudEvent)
    }
}

extension ConnectionOptions {
    /// Publishes an ingress event with a confirm and says so.
    func publish(_ event: CloudEvent) async throws {
        try await withBroker { try await $0.publish(event.amqpMessage(), exchange: Exchange.ingress, routingKey: event.type) }
        print("published \(event.type) \(event.id)")
    }
}
