import Glibc

/// A loopback TCP port bound, without listening, for as long as this object lives: nobody else can
/// listen there, and a connection to it is refused at once.
package final class ReservedPort: Sendable {
    private let descriptor: Int32
    package let port: Int

    /// Binds `port` on 127.0.0.1, or any free port when it is 0.
    ///
    /// - Throws: ``ReservedPortError`` when the port is taken.
    package init(_ port: Int = 0) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let descriptor = self.descriptor
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        self.port = Int(UInt16(bigEndian: address.sin_port))
        guard bound else {
            close(descriptor)
            throw ReservedPortError(port: port)
        }
    }

    deinit { close(descriptor) }

    /// Whether nothing listens on the loopback port, nor holds it.
    package static func isFree(_ port: Int) -> Bool { (try? ReservedPort(port)) != nil }
}

/// The port is taken.
package struct ReservedPortError: Error, CustomStringConvertible {
    package var port: Int
    package var description: String { "port \(port) on 127.0.0.1 is taken" }
}
