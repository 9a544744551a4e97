import AsyncHTTPClient
import Contracts
import Foundation
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import Telemetry
import Timing

/// The payment gateway over HTTP: charges and refunds, each with an idempotency key.
///
/// Every request has a deadline (`timeout`, from `ORDERLY_GATEWAY_TIMEOUT_SECONDS`); no answer in time,
/// a refused or reset connection, all come back as ``GatewayAnswer/unreachable(reason:)`` rather than
/// as errors, so that what they mean is decided in one pure place (``ChargeOutcome``, ``RefundOutcome``).
///
/// Thread safety: one `HTTPClient` shared by all handlers. Call ``shutdown()`` once, when nothing uses
/// it any more (``GatewayClientCloser`` does it on service shutdown).
package final class GatewayClient: Sendable {
    package let baseURL: String
    package let timeout: Duration
    let client: HTTPClient
    let logger: Logger
    /// `orderly_payment_gateway_duration_seconds{path, status}`, each handle made once.
    let durations = MetricFamily(timer: "orderly_payment_gateway_duration_seconds", dimensions: ["path", "status"])

    /// The largest answer read from the gateway.
    static let maxBodySize = 256 * 1024

    package init(baseURL: String, timeout: Duration, logger: Logger) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.timeout = timeout
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .nanoseconds(timeout.nanoseconds), read: .nanoseconds(timeout.nanoseconds))
        self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.logger = logger
    }

    /// `POST /v1/charges`.
    package func charge(amountCents: Int, currency: String, token: String, idempotencyKey: String, orderID: String) async -> GatewayAnswer {
        await post(
            "/v1/charges",
            body: [
                "amount_cents": .int(amountCents), "currency": .string(currency), "token": .string(token),
                "idempotency_key": .string(idempotencyKey), "order_id": .string(orderID),
            ]
        )
    }

    /// `POST /v1/refunds`.
    package func refund(chargeID: String, amountCents: Int, idempotencyKey: String) async -> GatewayAnswer {
        await post(
            "/v1/refunds",
            body: ["charge_id": .string(chargeID), "amount_cents": .int(amountCents), "idempotency_key": .string(idempotencyKey)]
        )
    }

    /// Closes the client's connections. Requests after this fail as unreachable.
    package func shutdown() async {
        do {
            try await client.shutdown()
        } catch {
            logger.debug("gateway client was shut down already", metadata: ["error": "\(error)"])
        }
    }

    private enum JSONValue: Encodable {
        case int(Int)
        case string(String)

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .int(let value): try container.encode(value)
            case .string(let value): try container.encode(value)
            }
        }
    }

    private func post(_ path: String, body: [String: JSONValue]) async -> GatewayAnswer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json, application/problem+json")
        let start = ContinuousClock.now
        do {
            request.body = .bytes(ByteBuffer(bytes: try JSONEncoder.orderly.encode(body)))
            let deadline = NIODeadline.now() + .nanoseconds(timeout.nanoseconds)
            let response = try await client.execute(request, deadline: deadline, logger: logger)
            let buffer = try await response.body.collect(upTo: Self.maxBodySize)
            recordDuration(path, since: start, outcome: "\(response.status.code)")
            return .response(status: Int(response.status.code), body: Data(buffer.readableBytesView))
        } catch {
            recordDuration(path, since: start, outcome: "unreachable")
            return .unreachable(reason: "\(path): \(error)")
        }
    }

    private func recordDuration(_ path: String, since start: ContinuousClock.Instant, outcome: String) {
        durations(path, outcome).record(duration: ContinuousClock.now - start)
    }
}
