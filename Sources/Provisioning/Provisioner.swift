import Contracts
import Foundation
import Logging
import Postgres

/// Creates or updates, idempotently, what the system catalog says each process may do: RabbitMQ
/// users, virtual host, permissions and topology, and PostgreSQL roles, schemas and grants.
///
/// Passwords come from a ``SecretStore`` (made there when missing). RabbitMQ is provisioned through
/// `rabbitmqctl` (which reaches the node with its Erlang cookie, not over AMQP), by importing a
/// ``BrokerDefinitions`` file from standard input, and `guest` is deleted after it; PostgreSQL through
/// the project's own client, connected as the database's owner, by running ``DatabaseScript``.
package struct Provisioner: Sendable {
    package let secrets: SecretStore

    package init(secrets: SecretStore) {
        self.secrets = secrets
    }

    /// Runs `rabbitmqctl` with these arguments and this standard input, and returns its standard output.
    package typealias RabbitMQCtl = @Sendable (_ arguments: [String], _ input: Data?) throws -> String

    /// What to write to RabbitMQ.
    package enum BrokerScope: Sendable {
        /// Every user of the catalog with its password, its permissions in the virtual host, and the
        /// topology; `guest` is deleted. For an installation's own broker.
        case installation
        /// Permissions of the users that exist already, and the topology, in another virtual host of the
        /// same broker (a fault run's or an end-to-end test's): no password changes, `guest` left alone.
        case virtualHostOnly
    }

    /// Provisions RabbitMQ; returns one line saying what it did.
    ///
    /// - Throws: ``SecretStoreError``, or what `rabbitmqctl` throws when the import fails.
    @discardableResult
    package func provisionBroker(virtualHost: String = SystemCatalog.virtualHost, scope: BrokerScope = .installation, rabbitmqctl: RabbitMQCtl)
        throws -> String
    {
        let definitions = BrokerDefinitions.catalog(virtualHost: virtualHost)
        switch scope {
        case .installation:
            let passwords = try definitions.passwordHashes(from: secrets)
            _ = try rabbitmqctl(["import_definitions"], Data(definitions.json(passwords: passwords).utf8))
            let users = try rabbitmqctl(["list_users", "--silent"], nil).split(whereSeparator: \.isNewline)
                .compactMap { $0.split(whereSeparator: \.isWhitespace).first.map(String.init) }
            var removed = ""
            if users.contains("guest") {
                _ = try rabbitmqctl(["delete_user", "guest"], nil)
                removed = "; deleted guest"
            }
            return "broker: \(definitions.users.count) users with their permissions on '\(virtualHost)' and \(Self.describe(definitions))\(removed)"
        case .virtualHostOnly:
            _ = try rabbitmqctl(["import_definitions"], Data(definitions.json(passwords: .existingUsers).utf8))
            return "broker: permissions of \(definitions.users.count) users on '\(virtualHost)' and \(Self.describe(definitions))"
        }
    }

    /// Provisions PostgreSQL in the database of `adminURL`, connected as its owner; returns one line saying what it did.
    ///
    /// - Parameter roles: whether to create or update the roles themselves (with their passwords)
    ///   too; without, only the schemas and grants, for another database of a cluster whose roles
    ///   were provisioned already.
    /// - Throws: ``SecretStoreError``, ``PostgresError``.
    @discardableResult
    package func provisionDatabase(adminURL: String, roles: Bool = true, logger: Logger) async throws -> String {
        let script = DatabaseScript()
        var passwords: [String: String] = [:]
        for role in script.roles { passwords[role.name] = try secrets.secret(SecretStore.databasePasswordName(role.name)) }
        let statements = script.statements(passwords: .values(passwords), includingRoles: roles)
        var configuration = try PostgresConfiguration(url: adminURL)
        configuration.applicationName = "orderly-provision"
        let pool = PostgresPool(configuration: configuration, size: 1, logger: logger)
        do {
            try await pool.withConnection { connection in try await connection.executeScript(statements.joined(separator: "\n")) }
            await pool.close()
        } catch {
            await pool.close()
            throw error
        }
        let names = script.roles.map(\.name).joined(separator: ", ")
        return "database: \(roles ? "roles and " : "")schemas \(names) in '\(configuration.database)', each for its role alone"
    }

    static func describe(_ definitions: BrokerDefinitions) -> String {
        let topology = definitions.topology
        return "\(topology.exchanges.count) exchanges, \(topology.queues.count) queues, \(topology.bindings.count) bindings"
    }
}
