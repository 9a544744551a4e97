import Contracts
import Foundation
import Messaging
import MessagingConventions
import ServiceKit

/// How an order-service instance is set up. The defaults are production's; tests change the
/// schema, queues and exchange so that they never touch the real saga.
///
/// | variable | default |
/// | --- | --- |
/// | `ORDERLY_SAGA_DEADLINE_SECONDS` | `900` |
/// | `ORDERLY_MAX_BODY_BYTES` | `65536` |
/// | `ORDERLY_API_KEYS` | none (comma-separated; none means no key is asked for) |
/// | `ORDERLY_ADMIN_KEYS` | none (comma-separated; none means administrative routes are refused) |
/// | `ORDERLY_ORDER_URL`, `ORDERLY_PAYMENT_URL`, `ORDERLY_INVENTORY_URL`, `ORDERLY_NOTIFICATION_URL` | each service's default port on loopback |
/// | `ORDERLY_MAX_OPEN_ORDERS` | `1000` (0: no limit) |
package struct OrderServiceConfiguration: Sendable {
    /// The PostgreSQL schema of the service's tables, outbox and inbox.
    package var schema: String = "orders"
    /// The work queue, its bindings, retry tiers and parking queue.
    package var queues: ServiceQueues = Subscriptions.order
    /// The `source` and exchange of the events the service emits.
    package var events: OrderEvents = OrderEvents()
    /// How long an order may stay open before it is cancelled.
    package var sagaDeadline: Duration = .seconds(900)
    /// How often the deadline watcher looks for expired orders.
    package var deadlinePollInterval: Duration = .seconds(1)
    /// The largest `POST /v1/orders` body accepted.
    package var maxBodyBytes: Int = 64 * 1024
    /// The API keys `/v1` asks for; empty means open.
    package var apiKeys: Set<String> = []
    /// The keys of the administrative routes (`/v1/admin`); empty means they are refused.
    package var adminKeys = AccessKeys([])
    /// Where each service with a parking queue serves its HTTP API, by name: the operator's page reaches
    /// their administrative routes through order-service.
    package var peers: [String: String] = Dictionary(uniqueKeysWithValues: SystemCatalog.consumers.map { ($0.name, $0.defaultURL) })
    /// The most orders open at once; past it the intake answers `503` (see ``SagaBacklog``); 0 means no limit.
    package var maxOpenOrders: Int = 1000
    /// The longest a batch waits for more deliveries while they pour in (`ORDERLY_BATCH_LINGER_MS`; see ``BatchRhythm``).
    package var batchLinger: Duration = BatchRhythm.defaultLinger

    package init() {}

    /// The production configuration, with the settings from the environment.
    ///
    /// - Throws: ``SettingsError`` for a setting that is not a valid number.
    package init(settings: ServiceSettings) throws {
        sagaDeadline = try settings.seconds("ORDERLY_SAGA_DEADLINE_SECONDS", default: .seconds(900))
        maxBodyBytes = try settings.int("ORDERLY_MAX_BODY_BYTES", default: 64 * 1024)
        guard maxBodyBytes > 0 else { throw SettingsError("ORDERLY_MAX_BODY_BYTES must be positive, not \(maxBodyBytes)") }
        maxOpenOrders = try settings.int("ORDERLY_MAX_OPEN_ORDERS", default: 1000)
        guard maxOpenOrders >= 0 else { throw SettingsError("ORDERLY_MAX_OPEN_ORDERS must be 0 or more, not \(maxOpenOrders)") }
        apiKeys = Set(
            settings.string("ORDERLY_API_KEYS", default: "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
        )
        adminKeys = settings.adminKeys
        batchLinger = try settings.batchLinger
        for service in SystemCatalog.consumers {
            let url = settings.string(service.urlVariable, default: service.defaultURL)
            guard let components = URLComponents(string: url), ["http", "https"].contains(components.scheme), components.host?.isEmpty == false
            else { throw SettingsError("\(service.urlVariable) must be an http:// or https:// URL, not '\(url)'") }
            peers[service.name] = url.hasSuffix("/") ? String(url.dropLast()) : url
        }
    }
}
