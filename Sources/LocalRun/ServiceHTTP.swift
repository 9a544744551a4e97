import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// One HTTP exchange with a running service, wherever it runs (processes of this machine, containers
/// behind published ports): the request the tests and the fault runner send, and the whole answer.
package enum ServiceHTTP {
    /// The status, headers and body of an answer.
    package typealias Answer = (status: Int, headers: HTTPHeaders, body: Data)

    /// Sends `method` to `baseURL` + `path`, with the intake's key as a bearer token when there is one,
    /// and collects the answer (up to 64 MiB) within `timeout`.
    package static func send(
        _ method: HTTPMethod, to baseURL: String, path: String, body: String? = nil, headers: [(String, String)] = [],
        apiKey: String? = nil, timeout: Duration = .seconds(30)
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let apiKey { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .nanoseconds(timeout.nanoseconds))
        let data = try await response.body.collect(upTo: 64 << 20)
        return (Int(response.status.code), response.headers, Data(data.readableBytesView))
    }
}
