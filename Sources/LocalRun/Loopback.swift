#if canImport(Glibc)
    import Glibc
#endif

/// A TCP socket and the address `127.0.0.1:port`, for finding out what listens on this machine.
enum Loopback {
    /// Runs `body` with a fresh socket, the address and its length (which `getsockname` may update), then closes the socket.
    static func withSocket<T>(port: Int, _ body: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> T) -> T {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        return withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body(socket, $0, &length) }
        }
    }
}
