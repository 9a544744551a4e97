import Foundation
import Hummingbird

/// An RFC 9457 problem details response (`application/problem+json`).
///
/// Thrown from a route, it becomes the response: the status, a short title, a detail for this
/// occurrence and, for validation failures, the offending fields.
public struct Problem: HTTPResponseError, Sendable, Equatable {
    /// One invalid field: a JSON pointer-like path and what is wrong with it.
    public struct FieldError: Codable, Sendable, Equatable {
        public var field: String
        public var message: String

        public init(field: String, message: String) {
            self.field = field
            self.message = message
        }
    }

    public var status: HTTPResponse.Status
    public var title: String
    public var detail: String?
    /// A URI naming the kind of problem.
    public var type: String
    public var errors: [FieldError]
    public var headers: HTTPFields

    public init(
        _ status: HTTPResponse.Status, title: String? = nil, detail: String? = nil, type: String? = nil, errors: [FieldError] = [],
        headers: HTTPFields = [:]
    ) {
        self.status = status
        self.title = title ?? status.reasonPhrase
        self.detail = detail
        self.type = type ?? "about:blank"
        self.errors = errors
        self.headers = headers
    }

    private struct Body: Encodable {
        var type: String
        var title: String
        var status: Int
        var detail: String?
        var instance: String
        var errors: [FieldError]?
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = Body(
            type: type, title: title, status: status.code, detail: detail, instance: request.uri.path, errors: errors.isEmpty ? nil : errors)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var headers = headers
        headers[.contentType] = "application/problem+json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(body))))
    }
}

/// Turns every error thrown by a route into problem details, so that no error leaves as plain text.
public struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            throw problem
        } catch let error as HTTPError {
            throw Problem(error.status, detail: error.body)
        } catch let error as any HTTPResponseError {
            throw Problem(error.status)
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)"])
            throw Problem(.internalServerError, detail: "the request could not be completed; it is safe to retry")
        }
    }
}
