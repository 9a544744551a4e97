import Contracts
import Digests
import Foundation
import HTTPTypes
import Hummingbird

/// `GET /ops`: the operator's page, one self-contained HTML document (its style and script inline, nothing
/// fetched from elsewhere) that draws an order's timeline as swimlanes per service and shows every
/// service's parking queue with a replay button.
///
/// The page holds no data: it asks `GET /v1/orders/{id}/timeline` with the API key and the parking routes
/// with the admin key, both typed in by the operator and kept in the tab's `sessionStorage`. For scripts and
/// headless browsers the fragment may carry them (`/ops#order=<id>&api_key=…&admin_key=…`): a fragment is
/// never sent to a server, and the page removes the keys from the address at once.
///
/// Its three parts are files of the package (`HTTP/Ops/ops.html`, `ops.css`, `ops.js`), put together
/// once. Its Content-Security-Policy allows exactly its own inline script and style (by their SHA-256)
/// and requests to its own origin.
enum OpsPage {
    static func response() -> Response {
        var response = Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: document)))
        response.headers[.contentType] = "text/html; charset=utf-8"
        response.headers[.cacheControl] = "no-store"
        response.headers[.contentSecurityPolicy] = "\(contentSecurityPolicy)"
        response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return response
    }

    /// The lanes of the timeline, left to right, and the services whose parking queues are shown.
    static let lanes = [OrderTimeline.ingress] + SystemCatalog.consumers.map(\.name)

    static let style = part("ops.css")
    static let script = part("ops.js")

    /// `ops.html` with its placeholders filled: the style, the script, the lanes and the services.
    static let document = part("ops.html")
        .replacingOccurrences(of: "{{lanes}}", with: lanes.joined(separator: " "))
        .replacingOccurrences(of: "{{services}}", with: SystemCatalog.consumers.map(\.name).joined(separator: " "))
        .replacingOccurrences(of: "{{style}}", with: style)
        .replacingOccurrences(of: "{{script}}", with: script)

    static let contentSecurityPolicy: ContentSecurityPolicy = [
        .defaultSrc(.none), .scriptSrc(.hash(.sha256, base64: digest(script))), .styleSrc(.hash(.sha256, base64: digest(style))),
        .connectSrc(.self), .imgSrc(.self), .formAction(.none), .baseURI(.none), .frameAncestors(.none),
    ]

    static func digest(_ text: String) -> String { Data(Digest.sha256(text)).base64EncodedString() }

    /// One of the page's files. They are part of the build: a missing one is a broken build, not a condition to serve around.
    private static func part(_ name: String) -> String {
        guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Ops"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else { preconditionFailure("the operator's page is built with Sources/Order/HTTP/Ops/\(name)") }
        return text
    }
}
