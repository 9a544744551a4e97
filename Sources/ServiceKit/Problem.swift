import Contracts
import Foundation
import Hummingbird
import Postgres

/// An RFC 9457 problem details response (`application/problem+json`).
///
/// Thrown from a route, it becomes the response: the status, a short title, a detail for this
/// occurrence and, for validation failures, the offending fields.
package struct Problem: HTTPResponseError, Sendable, Equatable {
    /// One invalid field: a JSON pointer-like path and what is wrong with it.
    package struct FieldError: Codable, Sendable, Equatable {
        package var field: String
        package var message: String

        package init(field: String, message: String) {
            self.field = field
            self.message = message
        }
    }

    package var status: HTTPResponse.Status
    package var title: String
    package var detail: String?
    /// A URI naming the kind of problem.
    package var type: String
    package var errors: [FieldError]
    package var headers: HTTPFields
    /// Further members of the problem object (RFC 9457 extension members), each as encoded JSON.
    package var extensions: [String: Data]

    package init(
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

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = Body(
            type: type, title: title, status: status.code, detail: detail, instance: request.uri.path, errors: errors.isEmpty ? nil : errors)
        var headers = headers
        headers[.contentType] = "application/problem+json"
        var document = try JSONEncoder.orderly.encode(body)
        // Extension members are spliced in as they were encoded: the object's closing brace makes way for them.
        for (name, value) in extensions.sorted(by: { $0.key < $1.key }) {
            document.removeLast()
            document.append(contentsOf: Array(",".utf8) + Array(try JSONEncoder.orderly.encode(name)) + Array(":".utf8))
            document.append(value)
            document.append(UInt8(ascii: "}"))
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: document)))
    }
}

/// Turns every error thrown by a route into problem details, so that no error leaves as plain text.
package struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    package init() {}

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
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
