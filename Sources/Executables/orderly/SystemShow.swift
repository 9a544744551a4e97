import ArgumentParser
import Contracts

/// `orderly system show`: the catalog — processes, broker users with their permissions, database roles.
struct SystemShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Print the catalog: processes, broker users with their permissions, database roles.")
    @OptionGroup var output: OutputOptions

    struct Report: Encodable {
        var processes: [Process]
        var brokerUsers: [User]
        var databaseRoles: [Role]

        struct Process: Encodable {
            var name: String
            var port: Int
            var schema: String
            var role: String
            var brokerUser: String
            var queue: String?

            enum CodingKeys: String, CodingKey {
                case name, port, schema, role, queue
                case brokerUser = "broker_user"
            }
        }

        struct User: Encodable {
            var name: String
            var tags: [String]
            var configure: String
            var write: String
            var read: String
        }

        struct Role: Encodable {
            var name: String
            var schema: String?
        }

        enum CodingKeys: String, CodingKey {
            case processes
            case brokerUsers = "broker_users"
            case databaseRoles = "database_roles"
        }
    }

    func run() throws {
        let report = Report(
            processes: SystemCatalog.all.map {
                .init(
                    name: $0.name, port: $0.httpPort, schema: $0.schema, role: $0.databaseRole, brokerUser: $0.brokerUser, queue: $0.queues?.workQueue
                )
            },
            brokerUsers: SystemCatalog.brokerUsers.map {
                .init(name: $0.name, tags: $0.tags, configure: $0.permissions.configure, write: $0.permissions.write, read: $0.permissions.read)
            },
            databaseRoles: SystemCatalog.databaseRoles.map { .init(name: $0.name, schema: $0.schema) }
        )
        try output.print(report) {
            print("process               port  schema         role           broker user")
            for process in report.processes {
                print(
                    [process.name.padded(22), String(process.port).padded(6), process.schema.padded(15), process.role.padded(15), process.brokerUser]
                        .joined())
            }
            print("\nbroker user           configure / write / read")
            for user in report.brokerUsers {
                print(user.name.padded(22) + "\(user.configure)\n" + "".padded(22) + "\(user.write)\n" + "".padded(22) + user.read)
            }
            print("\ndatabase role         schema")
            for role in report.databaseRoles { print(role.name.padded(22) + (role.schema ?? "(owns the database)")) }
        }
    }
}
