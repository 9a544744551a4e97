import Contracts
import Foundation
import Hummingbird

/// The request context of every Orderly service: Hummingbird's own, with Orderly's JSON
/// (`JSONEncoder.orderly`: sorted keys, slashes as they are) for every `ResponseEncodable` a route returns.
package struct ServiceRequestContext: RequestContext {
    package var coreContext: CoreRequestContextStorage

    package init(source: Source) {
        coreContext = .init(source: source)
    }

    package var responseEncoder: JSONEncoder { .orderly }
}

extension HTTPFields {
    /// For answers that show state at one moment (settings, a parking queue), which no cache may keep.
    package static let noStore: HTTPFields = [.cacheControl: "no-store"]
}
