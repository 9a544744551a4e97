import MessagingConventions

/// One process of the system: its name, HTTP port, database schema and role, and its place in the saga.
package struct ServiceDescriptor: Sendable, Hashable {
    /// The executable's name, which names the process in logs, metrics and the broker (`order-service`).
    package var name: String
    /// The HTTP port it listens on unless `ORDERLY_HTTP_PORT` says otherwise.
    package var httpPort: Int
    /// The PostgreSQL schema that holds its tables.
    package var schema: String
    /// The PostgreSQL role it logs in as, which owns its schema and nothing else.
    package var databaseRole: String
    /// Its work queue with bindings, tiers and parking; `nil` for a process that consumes nothing.
    package var queues: ServiceQueues?
    /// The exchange it writes its events to; `nil` for a process that emits nothing.
    package var exchange: String?

    package init(
        name: String, httpPort: Int, schema: String, databaseRole: String, queues: ServiceQueues? = nil, exchange: String? = nil
    ) {
        self.name = name
        self.httpPort = httpPort
        self.schema = schema
        self.databaseRole = databaseRole
        self.queues = queues
        self.exchange = exchange
    }

    /// The RabbitMQ user it logs in as: its own name.
    package var brokerUser: String { name }

    /// The variable that tells other processes where its HTTP API is: `ORDERLY_PAYMENT_URL` for
    /// `payment-service` (the name without `-service`). The operator's CLI reads it, and order-service
    /// reaches the other services' administrative routes through it.
    package var urlVariable: String {
        let short = name.hasSuffix("-service") ? String(name.dropLast("-service".count)) : name
        return "ORDERLY_" + SystemCatalog.variableSuffix(short) + "_URL"
    }

    /// Where its HTTP API is on this machine when nothing says otherwise: its default port on loopback.
    package var defaultURL: String { "http://127.0.0.1:\(httpPort)" }
}

/// The processes of the system, in one table that the services' defaults, the provisioning
/// (`orderly system provision`), `infra/dev`, `compose.yaml` and the tests are read from or checked against.
///
/// Who may do what lives beside it, in ``SystemCatalog/brokerUsers`` and ``SystemCatalog/databaseRoles``.
package enum SystemCatalog {
    package static let order = ServiceDescriptor(
        name: "order-service", httpPort: 8080, schema: "orders", databaseRole: "orders", queues: Subscriptions.order, exchange: Exchange.orders)
    package static let payment = ServiceDescriptor(
        name: "payment-service", httpPort: 8081, schema: "payments", databaseRole: "payments", queues: Subscriptions.payment,
        exchange: Exchange.payments)
    package static let inventory = ServiceDescriptor(
        name: "inventory-service", httpPort: 8082, schema: "inventory", databaseRole: "inventory", queues: Subscriptions.inventory,
        exchange: Exchange.inventory)
    package static let notification = ServiceDescriptor(
        name: "notification-service", httpPort: 8083, schema: "notifications", databaseRole: "notifications",
        queues: Subscriptions.notification, exchange: Exchange.notifications)
    package static let gatewaySim = ServiceDescriptor(name: "gateway-sim", httpPort: 8090, schema: "gateway", databaseRole: "gateway")

    /// Every process, in start order: the gateway first, since payment-service calls it.
    package static let all = [gatewaySim, order, payment, inventory, notification]

    /// The processes that consume a work queue, and so have a parking queue: the four services of the saga.
    package static var consumers: [ServiceDescriptor] { all.filter { $0.queues != nil } }

    /// The process called `name`, if there is one.
    package static func service(named name: String) -> ServiceDescriptor? { all.first { $0.name == name } }

    /// The database that holds every service's schema.
    package static let database = "orderly"

    /// The RabbitMQ virtual host of an installation.
    package static let virtualHost = "/"
}
