import Foundation
import GatewaySim
import Hummingbird
import HummingbirdTesting
import Postgres
import ServiceKit
import TestSupport
import Testing

/// A simulator on a schema of its own in the real database, tested through its router.
struct GatewayFixture {
    let schema: String
    let pool: PostgresPool
    let simulator: GatewaySimulator

    static func make(slowDelay: Duration = .milliseconds(300)) async throws -> GatewayFixture {
        let schema = TestEnvironment.uniqueName("gateway")
        let pool = try PostgresPool.forTesting(size: 8)
        try await PostgresMigrator(schema: schema, migrations: GatewaySimulator.migrations(schema: schema)).migrate(on: pool)
        let simulator = GatewaySimulator(schema: schema, pool: pool, slowDelay: slowDelay, logger: TestEnvironment.logger(schema))
        return GatewayFixture(schema: schema, pool: pool, simulator: simulator)
    }

    func tearDown() async throws {
        try await pool.execute("DROP SCHEMA \(identifier: schema) CASCADE")
        await pool.close()
    }

    /// Runs `body` against the simulator's routes, behind the problem-details middleware as in production.
    func test<T: Sendable>(_ body: @Sendable @escaping (any TestClientProtocol) async throws -> T) async throws -> T {
        let router = Router(context: ServiceRequestContext.self)
        router.add(middleware: ProblemMiddleware())
        simulator.addRoutes(to: router)
        return try await Application(router: router).test(.router) { client in try await body(client) }
    }

    static func charge(amount: Int = 2500, currency: String = "EUR", token: String = "tok_ok", key: String, order: String) -> ByteBuffer {
        ByteBuffer(
            string: #"{"amount_cents":\#(amount),"currency":"\#(currency)","token":"\#(token)","idempotency_key":"\#(key)","order_id":"\#(order)"}"#
        )
    }

    static func refund(charge: String, amount: Int, key: String) -> ByteBuffer {
        ByteBuffer(string: #"{"charge_id":"\#(charge)","amount_cents":\#(amount),"idempotency_key":"\#(key)"}"#)
    }

    static let json: HTTPFields = [.contentType: "application/json"]
}

extension TestResponse {
    var text: String { String(buffer: body) }

    /// The body as a JSON object.
    var object: [String: Any] { ((try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any]) ?? [:] }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try JSONDecoder().decode(T.self, from: Data(body.readableBytesView)) }
}

extension TestClientProtocol {
    func charge(amount: Int = 2500, token: String = "tok_ok", key: String, order: String) async throws -> TestResponse {
        try await executeRequest(
            uri: "/v1/charges", method: .post, headers: GatewayFixture.json,
            body: GatewayFixture.charge(amount: amount, token: token, key: key, order: order)
        )
    }

    func refund(charge: String, amount: Int, key: String) async throws -> TestResponse {
        try await executeRequest(
            uri: "/v1/refunds", method: .post, headers: GatewayFixture.json, body: GatewayFixture.refund(charge: charge, amount: amount, key: key)
        )
    }

    func ledger(order: String? = nil) async throws -> GatewayLedgerReport {
        let uri = order.map { "/v1/ledger?order_id=\($0)" } ?? "/v1/ledger"
        return try await executeRequest(uri: uri, method: .get, headers: [:], body: nil).decode(GatewayLedgerReport.self)
    }
}
