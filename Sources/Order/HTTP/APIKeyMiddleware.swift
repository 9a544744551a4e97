import Foundation
import HTTPTypes
import Hummingbird
import ServiceKit

/// Lets a request through only with one of the configured API keys, in `X-API-Key` or
/// `Authorization: Bearer <key>`; with no keys configured, lets everything through.
///
/// Applied to the `/v1` routes only: health and metrics stay open.
public struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    public let keys: Set<String>

    public init(keys: Set<String>) {
        self.keys = keys
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !keys.isEmpty else { return try await next(request, context) }
        guard let presented = Self.presentedKey(in: request.headers) else {
            throw Problem(
                .unauthorized, detail: "an API key is required: send it in X-API-Key or as Authorization: Bearer <key>",
                headers: [.wwwAuthenticate: "Bearer"]
            )
        }
        // Compare against every key without stopping early, so the time taken does not tell which prefix matched.
        var matched = false
        for key in keys where Self.constantTimeEquals(key, presented) { matched = true }
        guard matched else {
            throw Problem(.unauthorized, detail: "the API key is not valid", headers: [.wwwAuthenticate: "Bearer error=\"invalid_token\""])
        }
        return try await next(request, context)
    }

    static var apiKeyHeader: HTTPField.Name { HTTPField.Name("X-API-Key")! }

    static func presentedKey(in headers: HTTPFields) -> String? {
        if let key = headers[apiKeyHeader], !key.isEmpty { return key }
        guard let authorization = headers[.authorization] else { return nil }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let key = parts[1].trimmingCharacters(in: .whitespaces)
        return key.isEmpty ? nil : key
    }

    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let a = Array(a.utf8)
        let b = Array(b.utf8)
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }
}
