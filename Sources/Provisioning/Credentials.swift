import Contracts
import Foundation

/// The URLs a process logs in with, made from an installation's base URLs (host, port, virtual host,
/// database) and the passwords in a ``SecretStore``.
package struct Credentials: Sendable {
    package let secrets: SecretStore

    package init(secrets: SecretStore) {
        self.secrets = secrets
    }

    /// `base` (an `amqp://` URL) with `user` and its password from the store.
    ///
    /// - Throws: ``SecretStoreError`` when the password is not there or `base` is not a URL.
    package func amqpURL(user: String, base: String) throws -> String {
        try replacingLogin(of: base, user: user, password: password(SecretStore.brokerPasswordName(user)))
    }

    /// `base` (a `postgresql://` URL) with `role` and its password from the store.
    ///
    /// - Throws: ``SecretStoreError`` when the password is not there or `base` is not a URL.
    package func databaseURL(role: String, base: String) throws -> String {
        try replacingLogin(of: base, user: role, password: password(SecretStore.databasePasswordName(role)))
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
