import ArgumentParser
import Contracts
import Foundation
import Logging
import Provisioning

/// `orderly system`: the system catalog, and the provisioning that applies it.
struct SystemCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "system",
        abstract: "Provision users, permissions, roles and schemas from the system catalog, or print what it generates.",
        subcommands: [
            Provision.self, Definitions.self, SQL.self, Env.self, SystemShow.self, Start.self, Stop.self, Restart.self, Status.self,
            Ports.self, LogFiles.self, RabbitMQCtl.self, PSQL.self, OperatorEnv.self,
        ]
    )

    struct SecretOptions: ParsableArguments {
        @Option(help: "The folder of the installation's secrets, one file each, made there (mode 0600) when missing.")
        var secrets = Environment.value("ORDERLY_SECRETS_DIR") ?? ".data/secrets"

        var store: SecretStore { SecretStore(directory: URL(fileURLWithPath: secrets)) }
    }

    struct Provision: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or update every broker user, permission and the topology, and every database role and schema (idempotent).",
            discussion: """
                RabbitMQ is provisioned through rabbitmqctl (definitions imported from standard input; guest deleted), \
                PostgreSQL through --database-url, which must be the database's owner (the operator) or a superuser. \
                Passwords are read from --secrets, and made there when missing.
                """
        )
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var secretOptions: SecretOptions

        @Option(help: "The RabbitMQ virtual host.")
        var vhost = SystemCatalog.virtualHost

        @Option(help: "How to run rabbitmqctl against the broker, as words separated by spaces (e.g. './infra/dev rabbitmqctl').")
        var rabbitmqctl = "rabbitmqctl"

        @Flag(help: "Leave RabbitMQ alone.")
        var skipBroker = false

        @Flag(help: "Leave PostgreSQL alone.")
        var skipDatabase = false

        func run() async throws {
            let provisioner = Provisioner(secrets: secretOptions.store)
            if !skipBroker {
                let command = rabbitmqctl.split(separator: " ").map(String.init)
                guard !command.isEmpty else { throw ValidationError("--rabbitmqctl is empty") }
                print(
                    try provisioner.provisionBroker(virtualHost: vhost) { arguments, input in try Subprocess.run(command + arguments, input: input) })
            }
            if !skipDatabase {
                var logger = Logger(label: "orderly")
                logger.logLevel = .warning
                print(try await provisioner.provisionDatabase(adminURL: connection.databaseURL, logger: logger))
            }
        }
    }

    struct Definitions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the RabbitMQ definitions: users, permissions and the whole topology.",
            discussion: """
                Without --secrets, each password hash is the name of the variable that holds the password \
                ($ORDERLY_AMQP_PASSWORD_<USER>): the template committed as infra/rabbitmq/definitions.json, which \
                infra/rabbitmq/entrypoint.sh fills in when the container starts. With --secrets, the real hashes.
                """
        )
        @Option(help: "Fill in the hashes of the passwords in this folder of secrets (made there when missing).")
        var secrets: String?

        @Option(help: "The RabbitMQ virtual host.")
        var vhost = SystemCatalog.virtualHost

        func run() throws {
            let definitions = BrokerDefinitions.catalog(virtualHost: vhost)
            if let secrets {
                print(
                    definitions.json(passwords: try definitions.passwordHashes(from: SecretStore(directory: URL(fileURLWithPath: secrets)))),
                    terminator: "")
            } else {
                print(definitions.json(passwords: .variables), terminator: "")
            }
        }
    }

    struct SQL: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sql",
            abstract: "Print the PostgreSQL provisioning script with psql variables for the passwords (infra/postgres/provision.sql).")

        func run() { print(DatabaseScript().psqlScript, terminator: "") }
    }

    struct Env: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the environment a service of this installation starts with, or a .env for compose.yaml.",
            discussion: """
                With SERVICE: the variables one of its instances starts with, one NAME=value per line, as ./infra/dev up \
                starts it: its own broker user and database role (passwords from --secrets), its port, where the gateway \
                and the other services listen, the HTTP keys and the mail folder. Without: a .env for compose.yaml with \
                a fresh random value for every password and key; run that once (`orderly system env > .env`): \
                running it again makes other values, which a provisioned installation does not take.
                """
        )

        @Argument(help: "A service of the catalog (orderly system show lists them).")
        var service: String?

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var secretOptions: SecretOptions

        @Option(help: "The port this instance listens on (default: its service's, from --http-port-base).")
        var port: Int?

        @Option(help: "Where order-service listens; the others are where the catalog puts them, moved as much.")
        var httpPortBase = Environment.value("ORDERLY_HTTP_PORT_BASE").flatMap(Int.init) ?? SystemCatalog.order.httpPort

        @Option(help: "The folder the email sink writes to.")
        var mailDir = ".data/mail"

        func run() throws {
            guard let service else { return printComposeEnv() }
            guard let descriptor = SystemCatalog.service(named: service) else {
                throw ValidationError("'\(service)' is not a service; one of \(SystemCatalog.all.map(\.name).joined(separator: ", "))")
            }
            let store = secretOptions.store
            let environment = ServiceEnvironment(
                amqpURL: connection.amqpURL, databaseURL: connection.databaseURL, ports: ServiceEnvironment.ports(base: httpPortBase),
                mailDirectory: mailDir, apiKey: try store.existingSecret(SecretStore.apiKeyName),
                adminKey: try store.existingSecret(SecretStore.adminKeyName), secrets: store)
            for variable in try environment.variables(of: descriptor, port: port ?? environment.port(of: descriptor)) {
                print("\(variable.name)=\(variable.value)")
            }
        }

        private func printComposeEnv() {
            print("# Made by `orderly system env`: every password and key of compose.yaml, random. Never commit it.")
            for user in SystemCatalog.brokerUsers { print("\(user.passwordVariable)=\(SecretStore.generate())") }
            for role in SystemCatalog.databaseRoles { print("\(role.passwordVariable)=\(SecretStore.generate())") }
            print("ORDERLY_API_KEYS=\(SecretStore.generate())")
            print("ORDERLY_ADMIN_KEYS=\(SecretStore.generate())")
        }
    }
}

extension String {
    func padded(_ width: Int) -> String { padding(toLength: max(width, count + 1), withPad: " ", startingAt: 0) }
}
