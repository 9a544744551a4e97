import HTTPTypes
import Hummingbird

/// Lets a request through only with one of its keys, and answers the others with an RFC 9457
/// problem: `401` without a key or with a wrong one (with `WWW-Authenticate: Bearer`), `403` for
/// administrative routes on a service that has no admin key configured.
///
/// Two kinds, made by ``intake(keys:)`` and ``admin(keys:)``:
///
/// | | key in | no key configured |
/// | --- | --- | --- |
/// | intake | `Authorization: Bearer <key>` or `X-API-Key` | everything is let through |
/// | admin | `Authorization: Bearer <key>` or `X-Admin-Key` | everything is refused |
///
/// Add it to the routes it guards only (a `RouterGroup`): health and metrics stay open. For
/// administrative routes, ``Hummingbird/RouterMethods/adminGroup(_:keys:)`` makes the group.
package struct AccessKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    /// What the keys guard.
    package enum Kind: Sendable, Hashable {
        /// The API of a service: open while no key is configured, as on a developer's machine.
        case intake
        /// Administrative actions (dead letters, stock, settings): closed while no key is configured.
        case admin
    }

    package let keys: AccessKeys
    package let kind: Kind

    package init(keys: AccessKeys, kind: Kind) {
        self.keys = keys
        self.kind = kind
    }

    /// The intake's middleware, with `ORDERLY_API_KEYS`.
    package static func intake(keys: AccessKeys) -> Self { Self(keys: keys, kind: .intake) }

    /// The administrative routes' middleware, with `ORDERLY_ADMIN_KEYS`.
    package static func admin(keys: AccessKeys) -> Self { Self(keys: keys, kind: .admin) }

    /// The header that carries a key besides `Authorization: Bearer`: `X-API-Key` or `X-Admin-Key`.
    package var keyHeader: HTTPField.Name {
        switch kind {
        case .intake: HTTPField.Name("X-API-Key")!
        case .admin: HTTPField.Name("X-Admin-Key")!
        }
    }

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if keys.isEmpty {
            switch kind {
            case .intake: return try await next(request, context)
            case .admin:
                throw Problem(
                    .forbidden,
                    detail: "administrative actions are disabled on this service: configure ORDERLY_ADMIN_KEYS to enable them")
            }
        }
        let what = kind == .admin ? "admin key" : "API key"
        guard let presented = presentedKey(in: request.headers) else {
            throw Problem(
                .unauthorized, detail: "an \(what) is required: send it in \(keyHeader.rawName) or as Authorization: Bearer <key>",
                headers: [.wwwAuthenticate: "Bearer"])
        }
        guard keys.contains(presented) else {
            throw Problem(.unauthorized, detail: "the \(what) is not valid", headers: [.wwwAuthenticate: "Bearer error=\"invalid_token\""])
        }
        return try await next(request, context)
    }

    /// The key a request presents, from the kind's own header or `Authorization: Bearer`.
    package func presentedKey(in headers: HTTPFields) -> String? {
        if let key = headers[keyHeader], !key.isEmpty { return key }
        guard let authorization = headers[.authorization] else { return nil }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let key = parts[1].trimmingCharacters(in: .whitespaces)
        return key.isEmpty ? nil : key
    }
}

extension RouterMethods {
    /// A group of administrative routes under `path` (by default `/v1/admin`), each refused without
    /// one of `keys` (``AccessKeyMiddleware/admin(keys:)``).
    ///
    /// ```swift
    /// router.adminGroup(keys: settings.adminKeys)
    ///     .post("dead-letters/:queue/replay") { request, context in … }
    /// ```
    package func adminGroup(_ path: RouterPath = "v1/admin", keys: AccessKeys) -> RouterGroup<Context> {
        group(path).add(middleware: AccessKeyMiddleware<Context>.admin(keys: keys))
    }
}
