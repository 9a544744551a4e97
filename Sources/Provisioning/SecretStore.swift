import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Secrets of a local installation, one file each in a folder only its owner may read (`.data/secrets`
/// for `./infra/dev up`), made once and read ever after.
///
/// A secret that is missing is generated (32 random bytes, URL-safe base64) and written with mode
/// 0600 through `O_CREAT | O_EXCL`, so that two processes racing to make it end up with the same
/// one. Nothing here is ever written to the repository.
package struct SecretStore: Sendable {
    /// The folder holding one file per secret.
    package let directory: URL

    package init(directory: URL) {
        self.directory = directory
    }

    /// The file of the password of the RabbitMQ user `user`: `amqp-<user>`.
    package static func brokerPasswordName(_ user: String) -> String { "amqp-\(user)" }
    /// The file of the password of the PostgreSQL role `role`: `postgres-<role>`.
    package static func databasePasswordName(_ role: String) -> String { "postgres-\(role)" }
    /// The file of the key the HTTP intake asks for (`ORDERLY_API_KEYS`).
    package static let apiKeyName = "api-key"
    /// The file of the key administrative routes ask for (`ORDERLY_ADMIN_KEYS`).
    package static let adminKeyName = "admin-key"

    /// The secret called `name`, generated and stored first if there is none yet.
    ///
    /// - Throws: ``SecretStoreError`` when the folder or the file cannot be made or read, or the
    ///   file is readable by others than its owner.
    package func secret(_ name: String) throws -> String {
        if let existing = try existingSecret(name) { return existing }
        try makeDirectory()
        let path = directory.appendingPathComponent(name).path
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if descriptor < 0 {
            if errno == EEXIST, let raced = try existingSecret(name) { return raced }
            throw SecretStoreError("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        let value = Self.generate()
        let bytes = Array((value + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
        guard written == bytes.count else { throw SecretStoreError("cannot write \(path)") }
        return value
    }

    /// The secret called `name`, or `nil` when it was never made.
    ///
    /// - Throws: ``SecretStoreError`` when the file cannot be read, is empty, or others than its owner may read it.
    package func existingSecret(_ name: String) throws -> String? {
        let path = directory.appendingPathComponent(name).path
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        guard status.st_mode & 0o077 == 0 else {
            throw SecretStoreError("\(path) may be read by others (mode \(String(status.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw SecretStoreError("cannot read \(path)") }
        let value = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !value.isEmpty else { throw SecretStoreError("\(path) is empty; remove it to have a new secret made") }
        return value
    }

    /// 32 bytes from the system's secure random source, as URL-safe base64 without padding (43 characters).
    package static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    private func makeDirectory() throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw SecretStoreError("cannot create \(directory.path): \(error)")
        }
    }
}

/// A secret could not be made or read.
package struct SecretStoreError: Error, CustomStringConvertible, Sendable {
    package var description: String

    package init(_ description: String) { self.description = description }
}
