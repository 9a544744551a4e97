import Contracts
import Foundation

/// The environment a service process of a local installation starts with, made in one place for
/// `./infra/dev up` (through `orderly system env SERVICE`), the end-to-end tests and the fault runner:
/// its own broker user and database role (passwords from the secrets), its port, where the gateway
/// and the other services listen, the HTTP keys and the mail folder.
package struct ServiceEnvironment: Sendable {
    /// The broker and the database, without a login (`amqp://127.0.0.1:5672/`, a `?failover=` list allowed).
    package var amqpURL: String
    package var databaseURL: String
    /// Where each service's first instance listens, by name; a service not named listens on the catalog's port.
    package var ports: [String: Int]
    /// The folder the email sink writes to.
    package var mailDirectory: String
    /// The intake's and the administrative routes' keys; `nil` leaves them open.
    package var apiKey: String?
    package var adminKey: String?
    /// The passwords each service logs in with; `nil` runs every service with the base URLs' own login.
    package var secrets: SecretStore?

    package init(
        amqpURL: String, databaseURL: String, ports: [String: Int] = [:], mailDirectory: String, apiKey: String? = nil, adminKey: String? = nil,
        secrets: SecretStore? = nil
    ) {
        self.amqpURL = amqpURL
        self.databaseURL = databaseURL
        self.ports = ports
        self.mailDirectory = mailDirectory
        self.apiKey = apiKey
        self.adminKey = adminKey
        self.secrets = secrets
    }

    /// Every service's first instance where the catalog puts it, moved so that order-service listens on `base`.
    package static func ports(base: Int) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: SystemCatalog.all.map { ($0.name, base + $0.httpPort - SystemCatalog.order.httpPort) })
    }

    /// The port `service` listens on (its first instance).
    package func port(of service: ServiceDescriptor) -> Int {
        ports[service.name] ?? service.httpPort
    }

    /// The variables of one instance of `service`, listening on `port`, sorted by name.
    ///
    /// - Throws: ``SecretStoreError`` when a password the service logs in with is not in ``secrets``.
    package func variables(of service: ServiceDescriptor, port: Int) throws -> [(name: String, value: String)] {
        var variables = [
            "ORDERLY_HTTP_PORT": "\(port)",
            "ORDERLY_AMQP_URL": amqpURL,
            "ORDERLY_DATABASE_URL": databaseURL,
            "ORDERLY_GATEWAY_URL": "http://127.0.0.1:\(self.port(of: SystemCatalog.gatewaySim))",
            "ORDERLY_MAIL_DIR": mailDirectory,
        ]
        if let secrets {
            let credentials = Credentials(secrets: secrets)
            variables["ORDERLY_AMQP_URL"] = try credentials.amqpURL(user: service.brokerUser, base: amqpURL)
            variables["ORDERLY_DATABASE_URL"] = try credentials.databaseURL(role: service.databaseRole, base: databaseURL)
        }
        for peer in SystemCatalog.consumers { variables[peer.urlVariable] = "http://127.0.0.1:\(self.port(of: peer))" }
        if let apiKey { variables["ORDERLY_API_KEYS"] = apiKey }
        if let adminKey { variables["ORDERLY_ADMIN_KEYS"] = adminKey }
        return variables.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
    }
}
