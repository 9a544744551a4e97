import ArgumentParser
import AsyncHTTPClient
import Foundation

/// `orderly stock`: read and set stock through inventory-service's API and the ingress exchange.
struct StockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stock",
        abstract: "Read or set the stock of a SKU.",
        subcommands: [StockShow.self, StockSet.self]
    )

    struct InventoryOptions: ParsableArguments {
        @Option(help: "inventory-service's base URL (default: $ORDERLY_INVENTORY_URL, else what ./infra/dev up wrote, else http://127.0.0.1:8082).")
        var inventoryURL = Environment.value("ORDERLY_INVENTORY_URL") ?? "http://127.0.0.1:8082"
    }

    struct Level: Codable {
        var sku: String
        var available: Int
        var reserved: Int
    }

    /// The stock of `sku`, or nil when inventory does not know it.
    static func level(of sku: String, at baseURL: String) async throws -> Level? {
        let path = sku.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? sku
        let status: UInt
        let body: Data
        do {
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "\(baseURL)/v1/stock/\(path)"), timeout: .seconds(10))
            status = response.status.code
            body = Data(try await response.body.collect(upTo: 1 << 20).readableBytesView)
        } catch {
            throw Failure(.unavailable, "cannot reach inventory-service at \(baseURL): \(error) (--inventory-url or ORDERLY_INVENTORY_URL)")
        }
        switch status {
        case 200: return try JSONDecoder().decode(Level.self, from: body)
        case 404: return nil
        case 401, 403: throw Failure(.refused, "inventory-service refused: \(status) \(String(decoding: body, as: UTF8.self))")
        default: throw Failure(.failure, "inventory-service answered \(status): \(String(decoding: body, as: UTF8.self))")
        }
    }
}
