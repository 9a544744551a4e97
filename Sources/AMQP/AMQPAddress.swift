/// Where one broker node listens: a host name or IP address and an AMQP port.
public struct AMQPAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int = 5672) {
        self.host = host
        self.port = port
    }

    /// Reads `host`, `host:port`, `[ipv6]` or `[ipv6]:port`; the port is 5672 when absent.
    ///
    /// - Throws: ``AMQPError`` with code `.invalidConfiguration` naming what is wrong.
    public init(parsing text: String) throws(AMQPError) {
        func invalid(_ reason: String) -> AMQPError { AMQPError(.invalidConfiguration, "bad broker address '\(text)': \(reason)") }
        let host: Substring
        let portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw invalid("an IPv6 address needs its closing ]") }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.isEmpty || rest.hasPrefix(":") else { throw invalid("expected :port after ]") }
            portText = rest.isEmpty ? nil : rest.dropFirst()
        } else {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { throw invalid("write an IPv6 address in brackets, as [::1]:5672") }
            host = parts[0]
            portText = parts.count == 2 ? parts[1] : nil
        }
        guard !host.isEmpty, !host.contains(where: \.isWhitespace) else { throw invalid("no host") }
        var port = 5672
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else { throw invalid("the port must be from 1 to 65535") }
            port = number
        }
        self.init(host: String(host), port: port)
    }

    /// `host:port`, with an IPv6 address in brackets.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Which of a connection's addresses to try next, and how long to wait before it.
///
/// After a failed attempt or a lost connection the next address is tried at once; only when every
/// address has failed in a row does the connection back off, so that a dead node costs one failed
/// attempt, not a backoff, and a dead cluster is not hammered.
struct AddressRotation: Sendable, Hashable {
    let count: Int
    /// The address to try next.
    private(set) var current = 0
    /// Failed attempts since the last success or lost connection.
    private var failuresInARow = 0

    init(count: Int) {
        precondition(count > 0, "a connection needs at least one address")
        self.count = count
    }

    /// A connection to the current address was made.
    mutating func connected() { failuresInARow = 0 }

    /// An attempt on the current address failed: moves on to the next one, and answers which backoff
    /// round to wait for (`nil`: try the next address at once).
    mutating func failed() -> Int? {
        failuresInARow += 1
        current = (current + 1) % count
        return failuresInARow % count == 0 ? failuresInARow / count - 1 : nil
    }

    /// The connection to the current address was lost: counts as the first failure of a new round, so
    /// the next address is tried at once (or, with a single address, after the first backoff).
    mutating func lost() -> Int? {
        failuresInARow = 0
        return failed()
    }
}
