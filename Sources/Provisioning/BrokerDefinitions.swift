import AMQP
import Contracts
import Foundation

/// A RabbitMQ definitions file (`rabbitmqctl import_definitions`, `load_definitions` in
/// `rabbitmq.conf`): the virtual host, the users with their permissions, and the whole topology,
/// all from the system catalog.
///
/// Passwords never appear in clear. A definitions file for a real installation carries each user's
/// salted SHA-256 hash (``Passwords/hashes(_:)``); the committed template
/// `infra/rabbitmq/definitions.json` carries, in place of each hash, the name of the environment
/// variable that holds the password (``Passwords/variables``), which the RabbitMQ container's entry
/// point (`infra/rabbitmq/entrypoint.sh`) replaces by the hash before the broker boots.
package struct BrokerDefinitions: Sendable, Hashable {
    package var virtualHost: String
    package var users: [BrokerUser]
    package var topology: AMQPTopology

    package init(virtualHost: String, users: [BrokerUser], topology: AMQPTopology) {
        self.virtualHost = virtualHost
        self.users = users
        self.topology = topology
    }

    /// Every user of the catalog, and the whole contract's topology, in `virtualHost`.
    package static func catalog(virtualHost: String = SystemCatalog.virtualHost) -> BrokerDefinitions {
        BrokerDefinitions(virtualHost: virtualHost, users: SystemCatalog.brokerUsers, topology: Subscriptions.topology)
    }

    /// What stands in the `password_hash` of each user.
    package enum Passwords: Sendable, Hashable {
        /// `$ORDERLY_AMQP_PASSWORD_<USER>`: the variable to hash at container start.
        case variables
        /// Each user's hash, by user name (see ``RabbitPasswordHash``); a user without one is left out.
        case hashes([String: String])
        /// No users at all, but the permissions of every user: for another virtual host of a broker
        /// whose users exist already, leaving their passwords as they are.
        case existingUsers
    }

    /// The definitions as JSON text, ending with a newline.
    package func json(passwords: Passwords) -> String {
        let hashed: [(user: BrokerUser, hash: String)] = self.users.compactMap { user in
            switch passwords {
            case .variables: return (user, "$" + user.passwordVariable)
            case .hashes(let hashes): return hashes[user.name].map { (user, $0) }
            case .existingUsers: return (user, "")
            }
        }
        let users: [OrderedJSON] =
            passwords == .existingUsers
            ? []
            : hashed.map { user, hash in
                .object([
                    ("name", .string(user.name)), ("password_hash", .string(hash)), ("hashing_algorithm", .string(RabbitPasswordHash.algorithm)),
                    ("tags", .array(user.tags.map { .string($0) })),
                ])
            }
        let permissions: [OrderedJSON] = hashed.map { user, _ in
            .object([
                ("user", .string(user.name)), ("vhost", .string(virtualHost)), ("configure", .string(user.permissions.configure)),
                ("write", .string(user.permissions.write)), ("read", .string(user.permissions.read)),
            ])
        }
        let exchanges: [OrderedJSON] = topology.exchanges.map { exchange in
            .object([
                ("name", .string(exchange.name)), ("vhost", .string(virtualHost)), ("type", .string(exchange.type)),
                ("durable", .bool(exchange.durable)), ("auto_delete", .bool(false)), ("internal", .bool(false)),
                ("arguments", Self.json(exchange.arguments)),
            ])
        }
        let queues: [OrderedJSON] = topology.queues.map { queue in
            .object([
                ("name", .string(queue.name)), ("vhost", .string(virtualHost)), ("durable", .bool(queue.durable)),
                ("auto_delete", .bool(queue.autoDelete)), ("arguments", Self.json(queue.arguments)),
            ])
        }
        let bindings: [OrderedJSON] = topology.bindings.map { binding in
            .object([
                ("source", .string(binding.exchange)), ("vhost", .string(virtualHost)), ("destination", .string(binding.queue)),
                ("destination_type", .string("queue")), ("routing_key", .string(binding.routingKey)), ("arguments", Self.json(binding.arguments)),
            ])
        }
        let document = OrderedJSON.object([
            ("users", .array(users)), ("vhosts", .array([.object([("name", .string(virtualHost))])])), ("permissions", .array(permissions)),
            ("exchanges", .array(exchanges)), ("queues", .array(queues)), ("bindings", .array(bindings)),
        ])
        return document.text() + "\n"
    }

    /// Arguments as JSON, their names sorted so that the file does not change from run to run.
    static func json(_ table: AMQPTable) -> OrderedJSON {
        .object(table.keys.sorted().map { ($0, json(table[$0]!)) })
    }

    static func json(_ value: AMQPFieldValue) -> OrderedJSON {
        if let integer = value.intValue { return .int(integer) }
        switch value {
        case .bool(let flag): return .bool(flag)
        case .string(let text): return .string(text)
        case .bytes(let bytes): return .string(String(decoding: bytes, as: UTF8.self))
        case .float(let number): return .double(Double(number))
        case .double(let number): return .double(number)
        case .array(let values): return .array(values.map(json))
        case .table(let table): return json(table)
        case .timestamp(let date): return .int(Int64(date.timeIntervalSince1970))
        case .decimal(let scale, let value): return .double(Double(value) / pow(10, Double(scale)))
        default: return .null
        }
    }
}

extension BrokerDefinitions {
    /// The hash of each user's password from `secrets`, made there first when missing.
    ///
    /// - Throws: ``SecretStoreError`` when a secret cannot be made or read.
    package func passwordHashes(from secrets: SecretStore) throws -> Passwords {
        var hashes: [String: String] = [:]
        for user in users {
            let password = try secrets.secret(SecretStore.brokerPasswordName(user.name))
            hashes[user.name] = RabbitPasswordHash.hash(password: password, user: user.name)
        }
        return .hashes(hashes)
    }
}
