import MessagingConventions

/// What a RabbitMQ user may do in a virtual host: three regular expressions over resource names, as
/// `rabbitmqctl set_permissions` takes them.
///
/// RabbitMQ checks `configure` when a queue or exchange is declared or deleted, `write` when a
/// message is published to an exchange and when a queue is bound (on the queue), and `read` when a
/// queue is consumed or purged and when a queue is bound (on the exchange). Publishing to the
/// default exchange `""` is checked as a write to `amq.default`.
package struct BrokerPermissions: Sendable, Hashable {
    package var configure: String
    package var write: String
    package var read: String

    package init(configure: String, write: String, read: String) {
        self.configure = configure
        self.write = write
        self.read = read
    }

    /// Permissions that allow exactly the named resources, each matched whole and literally.
    package init(configure: [String], write: [String], read: [String]) {
        self.init(configure: Self.exactly(configure), write: Self.exactly(write), read: Self.exactly(read))
    }

    /// Nothing at all: the user may open the virtual host and do nothing in it.
    package static let none = BrokerPermissions(configure: "^$", write: "^$", read: "^$")
    /// Everything in the virtual host.
    package static let all = BrokerPermissions(configure: ".*", write: ".*", read: ".*")

    /// The name RabbitMQ checks for the default exchange.
    package static let defaultExchange = "amq.default"

    /// A pattern matching exactly `names` (`^(a|b)$`), or nothing (`^$`) when there are none.
    package static func exactly(_ names: [String]) -> String {
        var unique: [String] = []
        for name in names where !unique.contains(name) { unique.append(name) }
        guard !unique.isEmpty else { return "^$" }
        return "^(" + unique.map(escaped).joined(separator: "|") + ")$"
    }

    /// `name` with every character that means something in a regular expression escaped.
    static func escaped(_ name: String) -> String {
        var result = ""
        for character in name {
            if "\\^$.|?*+()[]{}".contains(character) { result.append("\\") }
            result.append(character)
        }
        return result
    }
}

/// A RabbitMQ user of an installation, with what it is for and what it may do.
package struct BrokerUser: Sendable, Hashable {
    package var name: String
    /// RabbitMQ user tags: `administrator` for the operator, none for the others.
    package var tags: [String]
    package var permissions: BrokerPermissions
    /// One line for operators: who logs in as this user.
    package var purpose: String

    package init(name: String, tags: [String] = [], permissions: BrokerPermissions, purpose: String) {
        self.name = name
        self.tags = tags
        self.permissions = permissions
        self.purpose = purpose
    }

    /// The variable that holds this user's password in `compose.yaml`, `.env` and the definitions
    /// template: `ORDERLY_AMQP_PASSWORD_ORDER_SERVICE` for `order-service`.
    package var passwordVariable: String { "ORDERLY_AMQP_PASSWORD_" + SystemCatalog.variableSuffix(name) }
}

/// A PostgreSQL role of an installation.
package struct DatabaseRole: Sendable, Hashable {
    package var name: String
    /// The schema it owns and may use, alone; `nil` for the operator, which owns the database.
    package var schema: String?
    package var purpose: String

    package init(name: String, schema: String?, purpose: String) {
        self.name = name
        self.schema = schema
        self.purpose = purpose
    }

    /// The variable that holds this role's password in `compose.yaml` and `.env`: `ORDERLY_DB_PASSWORD_ORDERS` for `orders`.
    package var passwordVariable: String { "ORDERLY_DB_PASSWORD_" + SystemCatalog.variableSuffix(name) }
}

extension ServiceDescriptor {
    /// The RabbitMQ permissions this process needs, and no more, derived from what it declares,
    /// publishes and consumes:
    ///
    /// - configure: its own queues (work, retry tiers, parking), the exchange it writes, and the
    ///   exchanges it binds its work queue to, which its consumer declares (idempotently) at start
    ///   so that it can start on an empty broker;
    /// - write: the exchange it writes, the default exchange (failed messages go to
    ///   `<service>.retry.<tier>` and `<service>.dead` through it), and its own queues (binding a
    ///   queue is a write on the queue);
    /// - read: its work queue and its parking queue (its administrative routes list and replay what is
    ///   parked there), and the exchanges it binds its work queue to (binding is a read on the exchange).
    ///
    /// A process that neither consumes nor emits (the gateway simulator, which connects only for its
    /// health check) gets ``BrokerPermissions/none``.
    package var brokerPermissions: BrokerPermissions {
        guard queues != nil || exchange != nil else { return .none }
        let ownQueues = queues?.queueNames ?? []
        let boundExchanges = queues.map { queues in queues.subscriptions.map(\.exchange) } ?? []
        let written = exchange.map { [$0] } ?? []
        return BrokerPermissions(
            configure: ownQueues + written + boundExchanges,
            write: written + (queues == nil ? [] : [BrokerPermissions.defaultExchange]) + ownQueues,
            read: (queues.map { [$0.workQueue, $0.parkingQueue] } ?? []) + boundExchanges
        )
    }
}

extension SystemCatalog {
    /// The operator's RabbitMQ user: an administrator with every permission, for `orderly`
    /// (topology, dead letters, stock) and the test and fault runners.
    package static let brokerOperator = BrokerUser(
        name: "orderly", tags: ["administrator"], permissions: .all, purpose: "the operator: orderly CLI, provisioning, tests")

    /// The user other systems publish with: it may write to `orderly.ingress` and nothing else.
    package static let brokerIngress = BrokerUser(
        name: "ingress", permissions: BrokerPermissions(configure: [], write: [Exchange.ingress], read: []),
        purpose: "other systems: order.requested and stock.adjusted on orderly.ingress")

    /// Every RabbitMQ user of an installation: one per process, the ingress user and the operator.
    /// `guest` is not among them: provisioning removes it.
    package static var brokerUsers: [BrokerUser] {
        all.map { BrokerUser(name: $0.brokerUser, permissions: $0.brokerPermissions, purpose: "\($0.name) alone") }
            + [brokerIngress, brokerOperator]
    }

    /// The operator's PostgreSQL role, which owns the database (and may create databases and roles,
    /// for the fault runner's and end-to-end tests' databases of their own). It is made a member of
    /// every service role, so that it can read every schema (`orderly stock show`, the fault runner's checks).
    package static let databaseOperator = DatabaseRole(
        name: "orderly", schema: nil, purpose: "the operator: owns the database, orderly CLI, provisioning, tests")

    /// Every PostgreSQL role of an installation: one per process, each owning its schema alone, and the operator.
    package static var databaseRoles: [DatabaseRole] {
        all.map { DatabaseRole(name: $0.databaseRole, schema: $0.schema, purpose: "\($0.name) alone") } + [databaseOperator]
    }

    /// `ORDER_SERVICE` for `order-service`: a name as the tail of an environment variable.
    static func variableSuffix(_ name: String) -> String {
        String(name.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }
}
