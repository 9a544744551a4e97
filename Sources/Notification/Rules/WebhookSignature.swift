import Crypto

/// The `X-Orderly-Signature` of a webhook body: `sha256=` and the lowercase hex HMAC-SHA256 of the
/// exact body bytes, keyed with the shared secret.
///
/// A receiver recomputes it over the raw body it got and compares in constant time
/// (``isValid(_:body:secret:)``) before trusting the body.
public enum WebhookSignature {
    public static let headerName = "X-Orderly-Signature"

    /// The header value for `body`.
    public static func sign(body: some Sequence<UInt8>, secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(body), using: SymmetricKey(data: Array(secret.utf8)))
        return "sha256=" + mac.map { hex($0) }.joined()
    }

    /// Whether `signature` is the header value for `body`, compared in constant time.
    public static func isValid(_ signature: String, body: some Sequence<UInt8>, secret: String) -> Bool {
        guard signature.hasPrefix("sha256="), let mac = bytes(fromHex: signature.dropFirst("sha256=".count)), mac.count == 32 else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Array(body), using: SymmetricKey(data: Array(secret.utf8)))
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }

    private static func bytes(fromHex text: Substring) -> [UInt8]? {
        guard text.count.isMultiple(of: 2) else { return nil }
        var result: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            result.append(byte)
            index = next
        }
        return result
    }
}
