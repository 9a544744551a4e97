import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Postgres
import ServiceKit
import Telemetry
import Tracing

/// The HTTP order intake: `POST /v1/orders`, `GET /v1/orders/{id}`, `GET /v1/orders/{id}/timeline` and `GET /v1/orders`.
///
/// An order is accepted (`202`) only once it and its `order.placed` event are committed in one
/// transaction. With an `Idempotency-Key`, the same key and body give the same order (also when
/// requests race: the key is unique in the database); a different body with a used key is `422`.
/// While the saga's backlog is at its limit (``SagaBacklog``), a new order is refused with `503` and
/// `Retry-After`. Every error is RFC 9457 problem details.
package struct OrderAPI: Sendable {
    package let saga: OrderSaga
    package let pool: PostgresPool
    package let configuration: OrderServiceConfiguration
    /// Whether the saga can take another order.
    package let backlog: SagaBacklog
    /// Concurrent requests' orders stored in one transaction (one commit) together.
    let intake: GroupCommit<NewOrder, OrderSaga.Placement>
    /// Reads the trace context of the request's span, which the order and its saga carry on.
    let tracer: any Tracer

    /// - Parameter tracer: the tracer of the request's span (``RequestObservabilityMiddleware``); a request
    ///   outside a span starts a trace of its own.
    package init(
        saga: OrderSaga, pool: PostgresPool, configuration: OrderServiceConfiguration, backlog: SagaBacklog,
        tracer: any Tracer = ProcessTracer.current
    ) {
        self.saga = saga
        self.pool = pool
        self.configuration = configuration
        self.backlog = backlog
        self.tracer = tracer
        intake = GroupCommit(maxGroup: 256, linger: configuration.batchLinger) { orders in
            try await pool.transaction { try await saga.place(orders, in: $0) }
        }
    }

    static let idempotencyKeyHeader = HTTPField.Name("Idempotency-Key")!
    static let replayedHeader = HTTPField.Name("Idempotent-Replayed")!

    /// Adds the routes under `/v1/orders`, behind the API key check.
    package func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        let orders = router.group("v1/orders").add(middleware: APIKeyMiddleware(keys: configuration.apiKeys))
        orders.post { request, context in try await create(request, context: context) }
        orders.get { request, context in try await list(request, context: context) }
        orders.get(":id") { request, context in try await show(request, context: context) }
        orders.get(":id/timeline") { request, context in try await timeline(request, context: context) }
    }

    func create(_ request: Request, context: some RequestContext) async throws -> EditedResponse<Order> {
        guard backlog.admits() else {
            throw Problem(
                .serviceUnavailable,
                detail: "\(backlog.limit) orders are being processed, the most accepted at once; try again shortly",
                headers: [.retryAfter: "1"]
            )
        }
        guard Self.isJSON(request.headers[.contentType]) else {
            throw Problem(
                .unsupportedMediaType, detail: "the body must be application/json, not \(request.headers[.contentType] ?? "unlabelled")",
                headers: [.accept: "application/json"]
            )
        }
        let limit = configuration.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw Problem(.contentTooLarge, detail: "the body is \(length) bytes; at most \(limit) are accepted")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limit)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw Problem(.contentTooLarge, detail: "the body is over the limit of \(limit) bytes")
        }
        let keys = request.headers[values: Self.idempotencyKeyHeader]
        if keys.count > 1 || keys.contains(where: { !OrderValidation.isValidIdempotencyKey($0) }) {
            throw Problem(
                .unprocessableContent, detail: "the Idempotency-Key header is not valid",
                errors: [.init(field: "Idempotency-Key", message: "must be one value of 1 to 255 printable ASCII characters")]
            )
        }
        let orderRequest: OrderRequest
        do {
            orderRequest = try OrderRequestParser.parse(Data(buffer: body))
        } catch {
            throw Self.problem(error, detail: "the order is not valid")
        }
        // The request's span continues the caller's `traceparent`, if it sent one (RequestObservabilityMiddleware).
        let traceparent = tracer.currentTraceParent ?? .random()
        let newOrder = NewOrder(
            request: orderRequest, origin: .http(idempotencyKey: keys.first), traceparent: traceparent, sagaDeadline: configuration.sagaDeadline
        )
        var logger = context.logger
        logger[metadataKey: LogKey.orderID] = "\(newOrder.id.description)"
        let placement: OrderSaga.Placement
        do {
            placement = try await intake.submit(newOrder)
        } catch let error as PostgresError where error.code == .commitOutcomeUnknown {
            // The COMMIT was sent and its answer lost. The order is found by its id if it committed;
            // if it is not found, the client is told the outcome is unknown, never that retrying is safe.
            guard let stored = try? await saga.store.order(id: newOrder.id, on: pool) else { throw error }
            logger.warning("the commit's answer was lost, but the order is stored", metadata: ["error": "\(error)"])
            placement = .placed(stored)
        }
        var replayedOrder: Order?
        if case .replayed(let id) = placement { replayedOrder = try await saga.store.order(id: id, on: pool) }
        switch placement {
        case .placed(let order):
            backlog.accepted()
            OrderMetrics.acceptedOverHTTP.increment()
            logger.info("order accepted", metadata: ["order.total_cents": "\(order.totalCents)", "customer.id": "\(order.customer.id)"])
            return Self.accepted(order, replayed: false)
        case .replayed:
            guard let order = replayedOrder else { throw Problem(.internalServerError, detail: "the order of this Idempotency-Key vanished") }
            logger.info("idempotent replay", metadata: ["order.id": "\(order.id.description)"])
            return Self.accepted(order, replayed: true)
        case .conflict(let id):
            throw Problem(
                .unprocessableContent,
                detail: "this Idempotency-Key was already used for a different order (\(id.description)); use a new key for a new order",
                errors: [.init(field: "Idempotency-Key", message: "was used with a different body")]
            )
        }
    }

    func show(_ request: Request, context: some RequestContext) async throws -> Order {
        guard let id = context.parameters.get("id", as: OrderID.self), let order = try await saga.store.order(id: id, on: pool) else {
            throw Problem(.notFound, detail: "there is no order \(context.parameters.get("id") ?? "")")
        }
        return order
    }

    /// `GET /v1/orders/{id}/timeline`: `400` for an id that is not a UUID, `404` for an unknown order.
    func timeline(_ request: Request, context: some RequestContext) async throws -> OrderTimeline {
        guard let id = context.parameters.get("id", as: OrderID.self) else {
            let text = context.parameters.get("id") ?? ""
            throw Problem(.badRequest, detail: "'\(text)' is not an order id: order ids are UUIDs, as in the Location of POST /v1/orders")
        }
        guard let timeline = try await saga.store.timeline(of: id, on: pool) else { throw Problem(.notFound, detail: "there is no order \(id)") }
        return timeline
    }

    func list(_ request: Request, context: some RequestContext) async throws -> OrderListing {
        let parameters = request.uri.queryParameters
        let query: OrderListQuery
        do {
            query = try OrderListQuery.parse(
                customerID: parameters["customer_id"].map(String.init), status: parameters["status"].map(String.init),
                limit: parameters["limit"].map(String.init)
            )
        } catch {
            throw Self.problem(error, detail: "the query is not valid")
        }
        return OrderListing(orders: try await saga.store.orders(matching: query, on: pool))
    }

    /// `202 Accepted` with the order, where to poll it, and whether it was accepted before under the same key.
    static func accepted(_ order: Order, replayed: Bool) -> EditedResponse<Order> {
        var headers: HTTPFields = [.location: "/v1/orders/\(order.id.description)"]
        if replayed { headers[replayedHeader] = "true" }
        return EditedResponse(status: .accepted, headers: headers, response: order)
    }

    static func problem(_ error: OrderRequestError, detail: String) -> Problem {
        switch error {
        case .malformed(let reason):
            Problem(.badRequest, detail: reason)
        case .invalid(let violations):
            Problem(.unprocessableContent, detail: detail, errors: violations.map { .init(field: $0.field, message: $0.message) })
        }
    }

    /// Whether a `Content-Type` is JSON: `application/json`, any parameters (`charset=utf-8`) aside.
    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        return mediaType == "application/json"
    }
}

/// The body of `GET /v1/orders`.
struct OrderListing: ResponseEncodable {
    var orders: [Order]
}

// The order and its timeline as the API answers them: in the context's JSON (`JSONEncoder.orderly`).
extension Order: ResponseEncodable {}
extension OrderTimeline: ResponseEncodable {}
