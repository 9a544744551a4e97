import Foundation
import Hummingbird
import HummingbirdTesting
import Inventory
import Postgres
import ServiceKit
import TestSupport
import Testing

/// `GET /v1/stock/{sku}` against a real database.
@Suite(.timeLimit(.minutes(1)))
struct StockRoutesTests {
    @Test func aStockedSKUIsReadAndAnUnknownOneIsAProblem() async throws {
        let schema = TestEnvironment.uniqueName("inventory_http")
        let pool = try PostgresPool.forTesting()
        try await PostgresMigrator(schema: schema, migrations: InventoryMigrations.all(schema: schema)).migrate(on: pool)
        try await pool.execute("INSERT INTO \(identifier: schema).stock (sku, available, reserved) VALUES ('SKU-001', 7, 3)")

        let router = Router(context: ServiceRequestContext.self)
        router.add(middleware: ProblemMiddleware())
        StockRoutes(store: InventoryStore(schema: schema), pool: pool).add(to: router)
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/v1/stock/SKU-001", method: .get) { response in
                #expect(response.status == .ok)
                let body = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                #expect(body?["sku"] as? String == "SKU-001")
                #expect(body?["available"] as? Int == 7)
                #expect(body?["reserved"] as? Int == 3)
            }
            try await client.execute(uri: "/v1/stock/NOPE", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "application/problem+json")
                let body = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                #expect(body?["status"] as? Int == 404)
                #expect(body?["detail"] as? String == "no stock was ever recorded for SKU 'NOPE'")
            }
        }
        try await pool.execute("DROP SCHEMA \(identifier: schema) CASCADE")
        await pool.close()
    }
}
