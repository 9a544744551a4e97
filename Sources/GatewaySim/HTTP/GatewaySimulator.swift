import Contracts
import Foundation
import Hummingbird
import Logging
import Postgres
import ServiceKit
import ServiceLifecycle

/// The payment-gateway simulator: real HTTP, a durable ledger, idempotency keys and the failure
/// modes of a real gateway, chosen by the card token (see ``TokenBehavior``).
///
/// Routes: `POST /v1/charges`, `POST /v1/refunds`, `GET /v1/ledger[?order_id=]`. Errors are RFC 9457
/// problem details (add ``ProblemMiddleware`` in front): malformed JSON `400`, invalid fields `422`,
/// unknown charge `404`. A request with a key seen before gets the original status and body again,
/// with `Idempotent-Replayed: true`; the same key with other parameters is `422`.
///
/// Thread safety: a value type over a pool; every request is independent and all shared state is in
/// PostgreSQL.
package struct GatewaySimulator: Sendable {
    /// The production schema.
    package static let defaultSchema = "gateway"

    package let schema: String
    /// How long `tok_slow` waits before answering.
    package let slowDelay: Duration
    let ledger: GatewayLedger
    let logger: Logger

    /// Set on an answer that replays an earlier request with the same idempotency key.
    static let idempotentReplayed = HTTPFields.Element.Name("Idempotent-Replayed")!

    /// The largest request body accepted.
    static let maxBodySize = 64 * 1024

    package init(schema: String = GatewaySimulator.defaultSchema, pool: PostgresPool, slowDelay: Duration = .seconds(30), logger: Logger) {
        self.schema = schema
        self.slowDelay = slowDelay
        self.ledger = GatewayLedger(schema: schema, pool: pool)
        self.logger = logger
    }

    /// The migrations of the simulator's schema.
    package static func migrations(schema: String = defaultSchema) -> [PostgresMigration] {
        GatewayMigrations.all(schema: schema)
    }

    /// The build step for ``ServiceRuntime/run(settings:schema:migrations:build:)``: adds the routes, runs no
    /// background work. Reads `ORDERLY_SIM_SLOW_SECONDS` (default 30).
    package static func build(
        _ dependencies: ServiceDependencies, router: Router<ServiceRequestContext>, schema: String = defaultSchema
    ) throws -> [any Service] {
        let slowDelay = try dependencies.settings.seconds("ORDERLY_SIM_SLOW_SECONDS", default: .seconds(30))
        GatewaySimulator(schema: schema, pool: dependencies.pool, slowDelay: slowDelay, logger: dependencies.logger).addRoutes(to: router)
        return []
    }

    /// Runs the gateway-sim process until SIGTERM or SIGINT: migrations of its schema, the routes, health and metrics.
    package static func run(settings: ServiceSettings = ServiceSettings(service: SystemCatalog.gatewaySim)) async throws {
        let schema = defaultSchema
        try await ServiceRuntime.run(settings: settings, schema: schema, migrations: migrations(schema: schema)) { dependencies, router in
            try build(dependencies, router: router, schema: schema)
        }
    }

    /// Adds the simulator's routes to `router`.
    package func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.post("/v1/charges") { request, _ in try await self.charge(request) }
        router.post("/v1/refunds") { request, _ in try await self.refund(request) }
        router.get("/v1/ledger") { request, _ in try await self.ledger(request) }
    }

    /// The ledger as `GET /v1/ledger` reports it: every charge and refund, or those of one order.
    package func ledger(orderID: String? = nil) async throws -> GatewayLedgerReport {
        try await ledger.report(orderID: orderID)
    }

    // MARK: - Routes

    func charge(_ request: Request) async throws -> Response {
        let draft = try await Self.decode(ChargeRequest.Draft.self, from: request)
        let charge: ChargeRequest
        switch ChargeRequest.validate(draft) {
        case .success(let valid): charge = valid
        case .failure(let invalid): throw Problem(.unprocessableContent, detail: "the charge request has invalid fields", errors: invalid.errors)
        }
        var logger = self.logger
        logger[metadataKey: "order.id"] = "\(charge.orderID)"
        logger[metadataKey: "idempotency.key"] = "\(charge.idempotencyKey)"
        guard let behavior = TokenBehavior(token: charge.token) else {
            throw Problem(
                .unprocessableContent, detail: "unknown card token '\(charge.token)'",
                errors: [
                    .init(field: "token", message: "must be one of \(TokenBehavior.allCases.map(\.rawValue).joined(separator: ", "))")
                ]
            )
        }
        // A flaky key counts attempts and a slow one waits, so a key answered before must be answered from the
        // ledger first; any other key's answer is recorded, or replayed, by one statement below.
        if behavior == .flaky || behavior == .slow, let answer = try await ledger.replayCharge(charge) {
            logger.debug("charge replayed")
            return Self.response(answer)
        }
        if behavior == .flaky {
            let attempt = try await ledger.countAttempt(of: charge.idempotencyKey)
            if behavior.failsTransiently(attempt: attempt) {
                logger.info("flaky token: failing this attempt", metadata: ["attempt": "\(attempt)"])
                throw Problem(
                    .serviceUnavailable,
                    detail: "the gateway is briefly unavailable (attempt \(attempt) of this key); retry with the same idempotency key",
                    headers: [.retryAfter: "1"]
                )
            }
        }
        if behavior == .slow {
            try await Task.sleep(for: slowDelay)
        }
        let answer = try await ledger.recordCharge(charge, approved: behavior.approves, path: request.uri.path)
        logger.info(
            answer.replayed ? "charge replayed" : (behavior.approves ? "charge succeeded" : "charge declined"),
            metadata: ["http.status": "\(answer.status)", "amount_cents": "\(charge.amountCents)"]
        )
        return Self.response(answer)
    }

    func refund(_ request: Request) async throws -> Response {
        let draft = try await Self.decode(RefundRequest.Draft.self, from: request)
        let refund: RefundRequest
        switch RefundRequest.validate(draft) {
        case .success(let valid): refund = valid
        case .failure(let invalid): throw Problem(.unprocessableContent, detail: "the refund request has invalid fields", errors: invalid.errors)
        }
        let answer = try await ledger.refund(refund)
        logger.info(
            answer.replayed ? "refund replayed" : "refund made",
            metadata: ["charge.id": "\(refund.chargeID)", "idempotency.key": "\(refund.idempotencyKey)", "amount_cents": "\(refund.amountCents)"]
        )
        return Self.response(answer)
    }

    func ledger(_ request: Request) async throws -> GatewayLedgerReport {
        let orderID = request.uri.queryParameters.get("order_id").flatMap { $0.isEmpty ? nil : $0 }
        return try await ledger.report(orderID: orderID)
    }

    // MARK: - Helpers

    /// Reads and decodes a JSON body: `400` when it is not JSON (or not an object), `422` naming the
    /// field when a field has the wrong type, `413` when it is too large.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
        let buffer = try await request.body.collect(upTo: maxBodySize)
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            guard let field = wrongTypeField(error) else { throw Problem(.badRequest, detail: "the body is not a JSON object") }
            throw Problem(
                .unprocessableContent, detail: "field '\(field)' has the wrong type", errors: [.init(field: field, message: "has the wrong type")]
            )
        } catch {
            throw Problem(.badRequest, detail: "the body is not a JSON object")
        }
    }

    /// The field a decoding error is about, when the JSON was well formed but a field's type is wrong.
    private static func wrongTypeField(_ error: DecodingError) -> String? {
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            // A number out of range is data the field cannot hold (`dataCorrupted` at the field's path).
            context.codingPath.isEmpty ? nil : context.codingPath.map(\.stringValue).joined(separator: ".")
        default:
            nil
        }
    }

    static func response(_ answer: GatewayLedger.Answer) -> Response {
        var headers: HTTPFields = [.contentType: answer.status >= 400 ? "application/problem+json" : "application/json"]
        if answer.replayed { headers[Self.idempotentReplayed] = "true" }
        return Response(status: .init(code: answer.status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: answer.body)))
    }
}
