import Foundation
import Hummingbird
import Postgres

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
    /// Further members of the problem object (RFC 9457 extension members), each as encoded JSON.
    public var extensions: [String: Data]

    public init(
        _ status: HTTPResponse.Status, title: String? = nil, detail: String? = nil, type: String? = nil, errors: [FieldError] = [],
        headers: HTTPFields = [:], extensions: [String: Data] = [:]
    ) {
        self.status = status
        self.title = title ?? status.reasonPhrase
        self.detail = detail
        self.type = type ?? "about:blank"
        self.errors = errors
        self.headers = headers
        self.extensions = extensions
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
        var document = try encoder.encode(body)
        // Extension members are spliced in as they were encoded: the object's closing brace makes way for them.
        for (name, value) in extensions.sorted(by: { $0.key < $1.key }) {
            document.removeLast()
            document.append(contentsOf: Array(",".utf8) + Array(try encoder.encode(name)) + Array(":".utf8))
            document.append(value)
            document.append(UInt8(ascii: "}"))
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: document)))
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
        } catch let error as PostgresError where error.code == .commitOutcomeUnknown {
            context.logger.error("request failed with its outcome unknown", metadata: ["error": "\(error)"])
            throw Problem(
                .internalServerError, title: "Outcome unknown",
                detail: "the connection to the database was lost while the change was being committed, so it may or may not have "
                    + "taken effect; repeat the request with the same Idempotency-Key to learn which")
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)"])
            throw Problem(.internalServerError, detail: "the request could not be completed")
        }
    }
}
