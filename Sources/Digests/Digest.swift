import CLibCrypto

/// SHA-256 and HMAC-SHA256 from the system's libcrypto (OpenSSL, Debian's `libssl-dev`): what Orderly
/// signs webhooks, hashes broker passwords and names content with. The system's library, not a
/// second copy of one compiled with every build.
package enum Digest {
    /// The length of a SHA-256 digest, in bytes.
    package static let sha256Length = Int(SHA256_DIGEST_LENGTH)

    /// SHA-256 of `bytes`.
    package static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: sha256Length)
        bytes.withUnsafeBufferPointer { input in
            digest.withUnsafeMutableBufferPointer { output in _ = SHA256(input.baseAddress, input.count, output.baseAddress) }
        }
        return digest
    }

    /// SHA-256 of the UTF-8 of `text`.
    package static func sha256(_ text: String) -> [UInt8] { sha256(Array(text.utf8)) }

    /// HMAC-SHA256 of `message` under `key` (RFC 2104).
    package static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var code = [UInt8](repeating: 0, count: sha256Length)
        var length: UInt32 = 0
        // libcrypto refuses a null key pointer even for an empty key: give it one byte it reads none of.
        let storage = key.isEmpty ? [0] : key
        storage.withUnsafeBufferPointer { keyBytes in
            message.withUnsafeBufferPointer { message in
                code.withUnsafeMutableBufferPointer { output in
                    _ = HMAC(EVP_sha256(), keyBytes.baseAddress, Int32(key.count), message.baseAddress, message.count, output.baseAddress, &length)
                }
            }
        }
        precondition(Int(length) == sha256Length, "HMAC-SHA256 gives 32 bytes")
        return code
    }
}
