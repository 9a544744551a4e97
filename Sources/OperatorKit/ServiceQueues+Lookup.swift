import Contracts
import Messaging
import MessagingConventions

extension Subscriptions {
    /// The queues of the service called `name`, by its queue name (`payment`) or process name (`payment-service`).
    ///
    /// - Throws: ``UnknownService`` naming the services there are.
    package static func queues(ofService name: String) throws(UnknownService) -> ServiceQueues {
        if let queues = all.first(where: { $0.service == name }) ?? SystemCatalog.service(named: name)?.queues { return queues }
        throw UnknownService(name: name)
    }
}

/// A service name that is not one of the catalog's consuming services.
package struct UnknownService: Error, CustomStringConvertible {
    package var name: String
    package var description: String {
        "unknown service '\(name)': expected one of \(Subscriptions.all.map(\.service).joined(separator: ", "))"
    }
}
