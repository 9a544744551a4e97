import Contracts
import Hummingbird
import Postgres
import ServiceKit

/// The read-only HTTP API of inventory-service.
package struct StockRoutes: Sendable {
    package let store: InventoryStore
    package let pool: PostgresPool

    package init(store: InventoryStore, pool: PostgresPool) {
        self.store = store
        self.pool = pool
    }

    /// Adds `GET /v1/stock/{sku}`: `{"sku","available","reserved"}`, or a `404` problem for a SKU never stocked.
    package func add<Context: RequestContext>(to router: Router<Context>) {
        router.get(RouterPath(HTTPRoute.getStock.routerPath)) { _, context -> StockResponse in
            let sku = try context.parameters.require("sku")
            guard let level = try await store.level(sku: sku, on: pool) else {
                throw Problem(.notFound, title: "Unknown SKU", detail: "no stock was ever recorded for SKU '\(sku)'")
            }
            return StockResponse(level)
        }
    }
}
