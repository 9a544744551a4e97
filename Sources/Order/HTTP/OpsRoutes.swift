import AsyncHTTPClient
import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import ServiceKit

/// The operator's page and what it calls besides the order API: `GET /ops`, and every service's parking
/// queue through order-service (`/v1/admin/services/{service}/parked…`).
///
/// Each service lists and replays its own parking queue as its own broker user, which may read that queue
/// and no other (``ServiceKit/ParkingRoutes``). order-service passes the page's requests on to the service
/// named in the path, with the admin key the page presented, so that the browser talks to one origin and
/// no service is given the right to read another's queues. order-service checks the key before it passes a
/// request on; the service checks it again.
package struct OpsRoutes: Sendable {
    /// Where each service with a parking queue serves its API, by name.
    package let peers: [String: String]
    package let adminKeys: AccessKeys
    /// order-service's own parking queue, answered here rather than passed on.
    package let own: ParkingAdmin?
    let client: HTTPClient
    /// How long a service may take to answer a request passed on.
    static let timeout: TimeAmount = .seconds(15)
    /// The largest answer passed back.
    static let maxAnswerBytes = 8 << 20

    package init(peers: [String: String], adminKeys: AccessKeys, own: ParkingAdmin?, client: HTTPClient = .shared) {
        self.peers = peers
        self.adminKeys = adminKeys
        self.own = own
        self.client = client
    }

    package func add<Context: RequestContext>(to router: Router<Context>) {
        // Put together now: a build without the page's files fails at start, not at the first visit.
        let page = OpsPage.response()
        router.get(RouterPath(HTTPRoute.opsPage.routerPath)) { _, _ in page }
        let admin = router.adminGroup(keys: adminKeys)
        admin.get("services/:service/parked") { request, context in
            try await pass(request, context: context, to: try peer(context), path: HTTPRoute.listParked.path, method: .GET)
        }
        admin.post("services/:service/parked/replay") { request, context in
            try await pass(request, context: context, to: try peer(context), path: HTTPRoute.replayParked.path, method: .POST)
        }
    }

    /// The service named in the path, one of the catalog's with a parking queue, and where it serves its API.
    func peer(_ context: some RequestContext) throws -> (service: String, base: String) {
        let name = context.parameters.get("service") ?? ""
        guard let base = peers[name] else {
            throw Problem(
                .notFound,
                detail: "there is no service '\(name)' with a parking queue: expected one of \(peers.keys.sorted().joined(separator: ", "))")
        }
        return (name, base)
    }

    /// Answers for `service`'s `path`: here for order-service's own queue, else by passing the request on.
    func pass(
        _ request: Request, context: some RequestContext, to peer: (service: String, base: String), path: String, method: HTTPMethod
    ) async throws -> Response {
        let (service, base) = peer
        if let own, own.service == service {
            return method == .GET
                ? try await ParkingRoutes.list(request, context: context, admin: own)
                : try await ParkingRoutes.replay(request, context: context, admin: own)
        }
        var forwarded = HTTPClientRequest(url: base + path + (request.uri.query.map { "?" + $0 } ?? ""))
        forwarded.method = method
        let key = AccessKeyMiddleware<ServiceRequestContext>.admin(keys: adminKeys)
        if let presented = key.presentedKey(in: request.headers) { forwarded.headers.add(name: key.keyHeader.rawName, value: presented) }
        let answer: HTTPClientResponse
        let body: ByteBuffer
        do {
            answer = try await client.execute(forwarded, timeout: Self.timeout)
            body = try await answer.body.collect(upTo: Self.maxAnswerBytes)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw Problem(.gatewayTimeout, detail: "\(service) did not answer at \(base) within \(Self.timeout.nanoseconds / 1_000_000_000) s")
        } catch {
            throw Problem(.badGateway, detail: "\(service) did not answer at \(base): \(error); check \(Self.variable(of: service))")
        }
        var response = Response(
            status: HTTPResponse.Status(code: Int(answer.status.code)), body: ResponseBody(byteBuffer: body))
        response.headers[.contentType] = answer.headers.first(name: "Content-Type") ?? "application/octet-stream"
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// The variable that tells order-service where `service` is.
    static func variable(of service: String) -> String { SystemCatalog.service(named: service)?.urlVariable ?? "its URL" }
}
