/// One route of the HTTP contract: which process serves it, its method and its path.
///
/// Paths are written in OpenAPI template form (`/v1/orders/{id}`), as in `docs/openapi.yaml`;
/// ``routerPath`` gives the Hummingbird form (`/v1/orders/:id`) for registering the route.
package struct HTTPRoute: Sendable, Hashable, CustomStringConvertible {
    /// The executable that serves the route (`order-service`), or `nil` for the routes several
    /// processes serve.
    package var service: String?
    /// Every executable that serves the route, in the catalog's order.
    package var servers: [String]
    /// `GET`, `POST`, …
    package var method: String
    package var path: String

    /// A route of `service`, or with `service` `nil` of every process of the catalog (or of `servers`, when given).
    package init(service: String?, method: String, path: String, servers: [String]? = nil) {
        self.service = service
        self.servers = servers ?? service.map { [$0] } ?? SystemCatalog.all.map(\.name)
        self.method = method
        self.path = path
    }

    /// The path with `{name}` parameters written as Hummingbird's `:name`.
    package var routerPath: String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.hasPrefix("{") && segment.hasSuffix("}") ? ":\(segment.dropFirst().dropLast())" : String(segment)
        }.joined(separator: "/")
    }

    package var description: String { "\(method) \(path)" }
}

extension HTTPRoute {
    /// `POST /v1/orders`: place an order (202, `Location: /v1/orders/{id}`).
    package static let placeOrder = HTTPRoute(service: "order-service", method: "POST", path: "/v1/orders")
    /// `GET /v1/orders?customer_id=&status=&limit=`: orders, newest first.
    package static let listOrders = HTTPRoute(service: "order-service", method: "GET", path: "/v1/orders")
    /// `GET /v1/orders/{id}`: one order with its history.
    package static let getOrder = HTTPRoute(service: "order-service", method: "GET", path: "/v1/orders/{id}")
    /// `GET /v1/orders/{id}/timeline`: every event of the order's saga that order-service handled or emitted, in order.
    package static let getOrderTimeline = HTTPRoute(service: "order-service", method: "GET", path: "/v1/orders/{id}/timeline")
    /// `GET /ops`: the operator's page (an order's timeline, every service's parking queue), HTML.
    package static let opsPage = HTTPRoute(service: "order-service", method: "GET", path: "/ops")
    /// `GET /v1/stock/{sku}`: available and reserved units of a SKU.
    package static let getStock = HTTPRoute(service: "inventory-service", method: "GET", path: "/v1/stock/{sku}")
    /// `POST /v1/charges` on the payment-gateway simulator.
    package static let createCharge = HTTPRoute(service: "gateway-sim", method: "POST", path: "/v1/charges")
    /// `POST /v1/refunds` on the payment-gateway simulator.
    package static let createRefund = HTTPRoute(service: "gateway-sim", method: "POST", path: "/v1/refunds")
    /// `GET /v1/ledger?order_id=`: the simulator's charges and refunds, the ground truth for the invariants.
    package static let ledger = HTTPRoute(service: "gateway-sim", method: "GET", path: "/v1/ledger")
    /// `GET /health/live`, on every service.
    package static let healthLive = HTTPRoute(service: nil, method: "GET", path: "/health/live")
    /// `GET /health/ready`, on every service: ready only when the broker and the database answer.
    package static let healthReady = HTTPRoute(service: nil, method: "GET", path: "/health/ready")
    /// `GET /metrics`, on every service: Prometheus text.
    package static let metrics = HTTPRoute(service: nil, method: "GET", path: "/metrics")

    /// `GET /v1/admin/settings`, on every service, behind its admin key: what it runs with, secrets left out.
    package static let adminSettings = HTTPRoute(service: nil, method: "GET", path: "/v1/admin/settings")
    /// `GET /v1/admin/parked`, on every service with a work queue, behind its admin key: what its parking queue holds, left there.
    package static let listParked = HTTPRoute(
        service: nil, method: "GET", path: "/v1/admin/parked", servers: SystemCatalog.consumers.map(\.name))
    /// `POST /v1/admin/parked/replay`, on every service with a work queue, behind its admin key: parked messages back to work.
    package static let replayParked = HTTPRoute(
        service: nil, method: "POST", path: "/v1/admin/parked/replay", servers: SystemCatalog.consumers.map(\.name))
    /// `GET /v1/admin/services/{service}/parked` on order-service: another service's `GET /v1/admin/parked`, passed on.
    package static let listServiceParked = HTTPRoute(service: "order-service", method: "GET", path: "/v1/admin/services/{service}/parked")
    /// `POST /v1/admin/services/{service}/parked/replay` on order-service: another service's replay, passed on.
    package static let replayServiceParked = HTTPRoute(
        service: "order-service", method: "POST", path: "/v1/admin/services/{service}/parked/replay")

    /// Every route of the contract.
    package static let all: [HTTPRoute] = [
        placeOrder, listOrders, getOrder, getOrderTimeline, opsPage, getStock, createCharge, createRefund, ledger, healthLive, healthReady,
        metrics, adminSettings, listParked, replayParked, listServiceParked, replayServiceParked,
    ]
}
