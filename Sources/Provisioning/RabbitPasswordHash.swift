import Crypto
import Foundation

/// RabbitMQ's `rabbit_password_hashing_sha256`, as definitions files carry a user's password:
/// base64 of a 4-byte salt followed by SHA-256(salt ‖ password).
package enum RabbitPasswordHash {
    /// The `hashing_algorithm` of a user in a definitions file.
    package static let algorithm = "rabbit_password_hashing_sha256"

    /// The `password_hash` of `password` with `salt` (4 bytes).
    package static func hash(password: String, salt: [UInt8]) -> String {
        precondition(salt.count == 4, "RabbitMQ salts are 4 bytes")
        let digest = SHA256.hash(data: salt + Array(password.utf8))
        return Data(salt + Array(digest)).base64EncodedString()
    }

    /// The `password_hash` of `user`'s `password`, with a salt derived from both, so that the same
    /// password gives the same definitions file each time (a second `up` changes nothing).
    package static func hash(password: String, user: String) -> String {
        let salt = Array(SHA256.hash(data: Array("orderly-salt\u{0}\(user)\u{0}\(password)".utf8)).prefix(4))
        return hash(password: password, salt: salt)
    }
}
