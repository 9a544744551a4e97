import Contracts
import Foundation

/// The URLs a process logs in with, made from an installation's base URLs (host, port, virtual host,
/// database) and the passwords in a ``SecretStore``.
public struct Credentials: Sendable {
    public let secrets: SecretStore

    public init(secrets: SecretStore) {
        self.secrets = secrets
    }

    /// `base` (an `amqp://` URL) with `user` and its password from the store.
    ///
    /// - Throws: ``SecretStoreError`` when the password is not there or `base` is not a URL.
    public func amqpURL(user: String, base: String) throws -> String {
        try replacingLogin(of: base, user: user, password: password(SecretStore.brokerPasswordName(user)))
    }

    /// `base` (a `postgresql://` URL) with `role` and its password from the store.
    ///
    /// - Throws: ``SecretStoreError`` when the password is not there or `base` is not a URL.
    public func databaseURL(role: String, base: String) throws -> String {
        try replacingLogin(of: base, user: role, password: password(SecretStore.databasePasswordName(role)))
    }

    /// The variables a process of the catalog needs to log in as itself: `ORDERLY_AMQP_URL` and `ORDERLY_DATABASE_URL`.
    public func environment(for service: ServiceDescriptor, amqpBase: String, databaseBase: String) throws -> [String: String] {
        [
            "ORDERLY_AMQP_URL": try amqpURL(user: service.brokerUser, base: amqpBase),
            "ORDERLY_DATABASE_URL": try databaseURL(role: service.databaseRole, base: databaseBase),
        ]
    }

    private func password(_ name: String) throws -> String {
        guard let password = try secrets.existingSecret(name) else {
            throw SecretStoreError("no secret \(name) in \(secrets.directory.path); run orderly system provision (./infra/dev up does)")
        }
        return password
    }

    private func replacingLogin(of base: String, user: String, password: String) throws -> String {
        guard var components = URLComponents(string: base), components.scheme != nil else { throw SecretStoreError("'\(base)' is not a URL") }
        components.user = user
        components.password = password
        guard let url = components.string else { throw SecretStoreError("cannot make a URL from '\(base)'") }
        return url
    }
}
