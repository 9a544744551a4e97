import Contracts
import Foundation
import Messaging
import ServiceKit

/// How an order-service instance is set up. The defaults are production's; tests change the
/// schema, queues and exchange so that they never touch the real saga.
///
/// | variable | default |
/// | --- | --- |
/// | `ORDERLY_SAGA_DEADLINE_SECONDS` | `900` |
/// | `ORDERLY_MAX_BODY_BYTES` | `65536` |
/// | `ORDERLY_API_KEYS` | none (comma-separated; none means no key is asked for) |
/// | `ORDERLY_MAX_OPEN_ORDERS` | `1000` (0: no limit) |
public struct OrderServiceConfiguration: Sendable {
    /// The PostgreSQL schema of the service's tables, outbox and inbox.
    public var schema: String = "orders"
    /// The work queue, its bindings, retry tiers and parking queue.
    public var queues: ServiceQueues = Subscriptions.order
    /// The `source` and exchange of the events the service emits.
    public var events: OrderEvents = OrderEvents()
    /// How long an order may stay open before it is cancelled.
    public var sagaDeadline: Duration = .seconds(900)
    /// How often the deadline watcher looks for expired orders.
    public var deadlinePollInterval: Duration = .seconds(1)
    /// The largest `POST /v1/orders` body accepted.
    public var maxBodyBytes: Int = 64 * 1024
    /// The API keys `/v1` asks for; empty means open.
    public var apiKeys: Set<String> = []
    /// The most orders open at once; past it the intake answers `503` (see ``SagaBacklog``); 0 means no limit.
    public var maxOpenOrders: Int = 1000

    public init() {}

    /// The production configuration, with the settings from the environment.
    ///
    /// - Throws: ``SettingsError`` for a setting that is not a valid number.
    public init(settings: ServiceSettings) throws {
        sagaDeadline = try settings.seconds("ORDERLY_SAGA_DEADLINE_SECONDS", default: .seconds(900))
        maxBodyBytes = try settings.int("ORDERLY_MAX_BODY_BYTES", default: 64 * 1024)
        guard maxBodyBytes > 0 else { throw SettingsError("ORDERLY_MAX_BODY_BYTES must be positive, not \(maxBodyBytes)") }
        maxOpenOrders = try settings.int("ORDERLY_MAX_OPEN_ORDERS", default: 1000)
        guard maxOpenOrders >= 0 else { throw SettingsError("ORDERLY_MAX_OPEN_ORDERS must be 0 or more, not \(maxOpenOrders)") }
        apiKeys = Set(
            settings.string("ORDERLY_API_KEYS", default: "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
        )
    }
}
