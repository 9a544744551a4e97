import ArgumentParser
import AsyncHTTPClient
import Contracts
import Foundation
import Messaging

/// `orderly stock`: read and set stock through inventory-service's API and the ingress exchange.
struct StockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stock",
        abstract: "Read or set the stock of a SKU.",
        subcommands: [Show.self, Set.self]
    )

    struct InventoryOptions: ParsableArguments {
        @Option(help: "inventory-service's base URL.")
        var inventoryURL = Environment.value("ORDERLY_INVENTORY_URL") ?? "http://127.0.0.1:8082"
    }

    struct Level: Decodable {
        var sku: String
        var available: Int
        var reserved: Int
    }

    /// The stock of `sku`, or nil when inventory does not know it.
    static func level(of sku: String, at baseURL: String) async throws -> Level? {
        let path = sku.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? sku
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "\(baseURL)/v1/stock/\(path)"), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        switch response.status.code {
        case 200: return try JSONDecoder().decode(Level.self, from: Data(body.readableBytesView))
        case 404: return nil
        case let status: throw ValidationError("inventory answered \(status): \(String(buffer: body))")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print available and reserved units.")
        @OptionGroup var inventory: InventoryOptions
        @Argument(help: "The SKU.") var sku: String

        func run() async throws {
            guard let level = try await StockCommand.level(of: sku, at: inventory.inventoryURL) else {
                print("\(sku): unknown (counts as 0 available)")
                return
            }
            print("\(level.sku): \(level.available) available, \(level.reserved) reserved")
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make AVAILABLE units available, by publishing the difference as stock.adjusted.",
            discussion: "Reads the current level first; an order reserving stock in between is not lost, it only shifts the result."
        )
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var inventory: InventoryOptions
        @Argument(help: "The SKU.") var sku: String
        @Argument(help: "The units to have available.") var available: Int

        func validate() throws {
            guard available >= 0 else { throw ValidationError("stock cannot be negative") }
        }

        func run() async throws {
            let current = try await StockCommand.level(of: sku, at: inventory.inventoryURL)?.available ?? 0
            guard available != current else {
                print("\(sku) already has \(available) available")
                return
            }
            let event = try CloudEvent(
                source: "/orderly/cli", type: EventType.stockAdjusted.rawValue, subject: sku,
                payload: StockAdjusted(sku: sku, delta: available - current, reason: "orderly stock set")
            )
            try await connection.publish(event)
        }
    }
}
