import Hummingbird
import ServiceKit

/// Lets a request through only with one of the configured API keys, in `X-API-Key` or
/// `Authorization: Bearer <key>`; with no keys configured, lets everything through.
///
/// The intake's form of ServiceKit's ``ServiceKit/AccessKeyMiddleware``; applied to the `/v1`
/// routes only: health and metrics stay open.
package struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    package let keys: Set<String>

    package init(keys: Set<String>) {
        self.keys = keys
    }

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await AccessKeyMiddleware<Context>.intake(keys: AccessKeys(keys)).handle(request, context: context, next: next)
    }
}
