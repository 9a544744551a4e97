import Foundation

extension AMQPConfiguration {
    /// `url` with a comma-separated list of hosts written the way ``init(url:)`` and `URLComponents` read it.
    ///
    /// `amqp://user:password@node-1:5672,node-2:5673,node-3/orders` becomes
    /// `amqp://user:password@node-1:5672/orders?failover=node-2:5673,node-3`: the first address stays
    /// the URL's host, the others go first in its `failover` list. A URL with one host is returned as it
    /// is. Nothing is checked here: a bad address is reported by ``init(url:)``, with its reason.
    ///
    /// Call it where a URL comes in (an environment variable, an option), before anything takes the URL
    /// apart to change its user or virtual host.
    public static func singleHostURL(_ url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let authorityEnd = url[scheme.upperBound...].firstIndex { "/?#".contains($0) } ?? url.endIndex
        let authority = url[scheme.upperBound..<authorityEnd]
        // Only the part after the last @: a password may hold a comma.
        let hostsStart = authority.lastIndex(of: "@").map(authority.index(after:)) ?? authority.startIndex
        let hosts = authority[hostsStart...].split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard hosts.count > 1 else { return url }

        let rest = url[authorityEnd...]
        let fragmentStart = rest.firstIndex(of: "#") ?? rest.endIndex
        let pathAndQuery = rest[..<fragmentStart]
        // Brackets may stand in an authority, not in a query: an IPv6 address there is percent-encoded.
        let failover = "failover=" + hosts.dropFirst().joined(separator: ",").replacing("[", with: "%5B").replacing("]", with: "%5D")
        var result = String(url[..<hostsStart]) + hosts[0]
        if let question = pathAndQuery.firstIndex(of: "?") {
            let query = pathAndQuery[pathAndQuery.index(after: question)...]
            result += pathAndQuery[..<question] + "?" + failover + (query.isEmpty ? "" : "&\(query)")
        } else {
            result += pathAndQuery + "?" + failover
        }
        return result + String(rest[fragmentStart...])
    }
}
