import Foundation
import TestSupport
import Testing

/// `orderly dlq` against the running services: a message the service parked is found, shown and
/// replayed by the built CLI, and the service then processes it, once.
extension CheckoutEndToEndTests {
    struct Listing: Decodable {
        struct Message: Decodable {
            var messageId: String?
            var reason: String?
            var replays: Int
        }
        var queue: String
        var count: Int
        var messages: [Message]
    }

    /// Runs the built `orderly` with `arguments` against the system's broker and inventory-service.
    func orderly(_ arguments: [String], on system: SystemUnderTest) async throws -> Command {
        try await Command.run(
            SystemUnderTest.binDirectory.appendingPathComponent("orderly"), arguments,
            environment: [
                "ORDERLY_AMQP_URL": system.amqpURL,
                "ORDERLY_INVENTORY_URL": "http://127.0.0.1:\(system.local.port(of: .init("inventory-service")))",
            ])
    }

    func parked(in service: String, on system: SystemUnderTest) async throws -> Listing {
        let run = try await orderly(["dlq", "list", service, "--json"], on: system)
        #expect(run.status == 0, "\(run.stderr)")
        return try Checkout.decoder.decode(Listing.self, from: Data(run.stdout.utf8))
    }

    @Test func aParkedMessageReplayedWithTheCLIIsProcessedOnce() async throws {
        let checkout = try Checkout()
        let system = checkout.system
        let sku = try await checkout.stocked(2)
        let id = "return-\(UUID().uuidString.prefix(8))"

        // Taking 5 of 2 units back would make stock negative: inventory parks the adjustment.
        let published = try await orderly(["publish", "stock-adjusted", "--sku", sku, "--delta", "-5", "--event-id", id], on: system)
        #expect(published.status == 0, "\(published.stderr)")
        var listing = try await parked(in: "inventory", on: system)
        try await eventually {
            listing = try await parked(in: "inventory", on: system)
            return listing.messages.contains { $0.messageId == id }
        }
        #expect(listing.queue == "inventory.dead")
        #expect(listing.messages.first { $0.messageId == id }?.reason?.contains("never negative") == true, "\(listing)")

        let shown = try await orderly(["dlq", "show", "inventory", "--message-id", id, "--json"], on: system)
        #expect(shown.status == 0 && shown.stdout.contains("x-orderly-parked-reason") && shown.stdout.contains(#""delta" : -5"#), "\(shown.stdout)")

        // Once the units are there, the same message succeeds.
        try await checkout.adjust(sku, by: 10)
        try await eventually { try await checkout.stock(sku)?.available == 12 }
        let replayed = try await orderly(["dlq", "replay", "inventory", "--message-id", id], on: system)
        #expect(replayed.status == 0, "\(replayed.stderr)")
        #expect(replayed.stdout.contains("replayed 1 message(s) from inventory.dead to inventory"))
        try await eventually { try await checkout.stock(sku)?.available == 7 }
        #expect(try await parked(in: "inventory", on: system).messages.allSatisfy { $0.messageId != id })

        // Processed once: a second replay finds nothing, and the stock stays.
        let again = try await orderly(["dlq", "replay", "inventory", "--message-id", id], on: system)
        #expect(again.status == 1 && again.stderr.contains("no parked message with id '\(id)'"), "\(again.stderr)")
        try await Task.sleep(for: .seconds(1))
        #expect(try await checkout.stock(sku) == Checkout.Stock(sku: sku, available: 7, reserved: 0))
    }
}
