import HTTPTypes
import Hummingbird

extension Router {
    /// The methods a client may send that no route of a path takes, answered `405` rather than `404`:
    /// RFC 9110's, `PATCH`, and `QUERY` (the safe method with a body that HTTP is adding).
    static var answerableMethods: [HTTPRequest.Method] {
        [.get, .head, .post, .put, .patch, .delete, .options, .trace, HTTPRequest.Method("QUERY")!]
    }

    /// Answers every method that a routed path does not take with `405 Method Not Allowed`, naming in
    /// `Allow` the ones it does (RFC 9110 §15.5.6), instead of the `404` of a path that does not exist.
    ///
    /// Call it once, after the last route is added. `HEAD` counts as taken wherever `GET` is.
    package func answerUnroutedMethodsWith405() {
        var taken: [String: (path: RouterPath, methods: Set<HTTPRequest.Method>)] = [:]
        for route in routes { taken[route.path.description, default: (route.path, [])].methods.insert(route.method) }
        for (path, methods) in taken.values {
            var allowed = methods
            if allowed.contains(.get) { allowed.insert(.head) }
            let allow = Self.answerableMethods.filter(allowed.contains).map(\.rawValue).joined(separator: ", ")
            for method in Self.answerableMethods where !allowed.contains(method) {
                on(path, method: method) { _, _ -> Response in
                    throw Problem(
                        .methodNotAllowed, detail: "\(method.rawValue) is not a method of this path; it takes \(allow)",
                        headers: [.allow: allow])
                }
            }
        }
    }
}
