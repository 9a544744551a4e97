import Foundation

/// What came back from the payment gateway, before anyone decides what it means: a status and a
/// body, or no answer at all (timeout, connection refused or reset).
package enum GatewayAnswer: Sendable, Hashable {
    case response(status: Int, body: Data)
    case unreachable(reason: String)

    /// The `detail` (or `title`) of a problem+json body, or the body's text, for error messages.
    var detail: String {
        switch self {
        case .unreachable(let reason):
            return reason
        case .response(let status, let body):
            let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
            let text = (object?["detail"] as? String) ?? (object?["title"] as? String) ?? String(decoding: body.prefix(300), as: UTF8.self)
            return "gateway answered \(status): \(text)"
        }
    }

    /// A string field of a JSON object body.
    func field(_ name: String) -> String? {
        guard case .response(_, let body) = self else { return nil }
        return ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any])?[name] as? String
    }
}
