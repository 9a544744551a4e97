import Digests
import Foundation

/// RabbitMQ's `rabbit_password_hashing_sha256`, as definitions files carry a user's password:
/// base64 of a 4-byte salt followed by SHA-256(salt ‖ password).
package enum RabbitPasswordHash {
    /// The `hashing_algorithm` of a user in a definitions file.
    package static let algorithm = "rabbit_password_hashing_sha256"

    /// The `password_hash` of `password` with `salt` (4 bytes).
    package static func hash(password: String, salt: [UInt8]) -> String {
        precondition(salt.count == 4, "RabbitMQ salts are 4 bytes")
        return Data(salt + Digest.sha256(salt + Array(password.utf8))).base64EncodedString()
    }

    /// The `password_hash` of `user`'s `password`, with a salt derived from both, so that the same
    /// password gives the same definitions file each time (a second `up` changes nothing).
    package static func hash(password: String, user: String) -> String {
        let salt = Array(Digest.sha256("orderly-salt\u{0}\(user)\u{0}\(password)").prefix(4))
        return hash(password: password, salt: salt)
    }
}
