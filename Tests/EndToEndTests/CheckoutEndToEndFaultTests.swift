import Foundation
import TestSupport
import Testing

/// The invariants of design.md while services die with `kill -9` and the broker restarts under
/// load. Run apart from the other tests (`swift test --filter Fault`): it stops the shared broker.
@Suite("EndToEnd fault", .runningSystem(sagaDeadline: .seconds(150)), .serialized, .timeLimit(.minutes(8)))
struct CheckoutEndToEndFaultTests {
    @Test func theInvariantsHoldWhileServicesAreKilledAndTheBrokerRestarts() async throws {
        let checkout = try Checkout()
        let system = checkout.system
        let initialStock = 15
        let sku = try await checkout.stocked(initialStock)
        let tokens = ["tok_ok", "tok_ok", "tok_decline", "tok_ok", "tok_flaky"]
        let total = 40

        // Customers keep ordering; a request that finds order-service down is sent again with its key.
        let placing = Task {
            var ids: [String] = []
            for index in 0..<total {
                let key = UUID().uuidString
                while true {
                    if let id = try? await checkout.place(sku: sku, quantity: 1, price: 300 + index, token: tokens[index % tokens.count], key: key) {
                        ids.append(id)
                        break
                    }
                    try await Task.sleep(for: .milliseconds(300))
                }
                try await Task.sleep(for: .milliseconds(150))
            }
            return ids
        }

        try await Task.sleep(for: .seconds(1))
        system.kill("payment-service")
        try await Task.sleep(for: .seconds(1))
        try await system.launch("payment-service")
        system.kill("inventory-service")
        try Infrastructure.rabbitmq.restart()
        try await system.launch("inventory-service")
        system.kill("order-service")
        try await Task.sleep(for: .milliseconds(500))
        try await system.launch("order-service")
        system.kill("notification-service")
        try await system.launch("notification-service")

        let ids = try await placing.value
        #expect(Set(ids).count == total)
        var completed = 0
        for id in ids {
            let order = try await checkout.settled(id, within: .seconds(150))
            let ledger = try await checkout.ledger(id)
            let charged = ledger.successfulCharges.map(\.amountCents)
            switch order.status {
            case "COMPLETED":
                completed += 1
                #expect(charged == [order.totalCents], "order \(id)")
                #expect(ledger.refunds.isEmpty, "order \(id)")
            case "CANCELLED":
                #expect(ledger.refunds.map(\.amountCents) == charged, "order \(id)")
                #expect(charged.count <= 1, "order \(id)")
            case "FAILED":
                #expect(charged.isEmpty, "order \(id)")
            default:
                Issue.record("order \(id) is still \(order.status)")
            }
            try await eventually { try await checkout.notifications(id) == 1 }
        }
        let stock = try #require(try await checkout.stock(sku))
        #expect(stock.available + stock.reserved == initialStock)
        #expect(stock.reserved == completed)
        for queue in ["order.dead", "payment.dead", "inventory.dead", "notification.dead"] {
            #expect(try await checkout.queueDepth(queue) == 0, "\(queue) is not empty")
        }
    }
}
