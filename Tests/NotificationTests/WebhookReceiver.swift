import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization
import TestSupport

/// A real HTTP server on a free loopback port that records the webhook requests it gets and
/// answers `500` to the first `failures` of them, `204` after.
final class WebhookReceiver: Sendable {
    struct Received: Sendable {
        var body: [UInt8]
        var id: String?
        var timestamp: String?
        var signature: String?
        var notificationID: String?
        var contentType: String?
    }

    let failures: Int
    private let received = Mutex<[Received]>([])

    init(failures: Int = 0) {
        self.failures = failures
    }

    var requests: [Received] { received.withLock { $0 } }

    /// Serves on a free port while `body` runs, passing it the webhook URL.
    func serving<T: Sendable>(_ body: (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("/hooks/orderly") { request, _ -> Response in
            let buffer = try await request.body.collect(upTo: 1 << 20)
            func header(_ name: String) -> String? { request.headers.first { $0.name.canonicalName == name.lowercased() }?.value }
            let count = self.received.withLock { list in
                list.append(
                    Received(
                        body: Array(buffer.readableBytesView), id: header("webhook-id"), timestamp: header("webhook-timestamp"),
                        signature: header("webhook-signature"),
                        notificationID: header("X-Orderly-Notification-Id"), contentType: header("Content-Type")
                    )
                )
                return list.count
            }
            return Response(status: count <= self.failures ? .internalServerError : .noContent)
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let application = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) }, logger: TestEnvironment.logger("webhook")
        )
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await application.runService() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw CancellationError() }
            defer { group.cancelAll() }
            return try await body("http://127.0.0.1:\(port)/hooks/orderly")
        }
    }
}
