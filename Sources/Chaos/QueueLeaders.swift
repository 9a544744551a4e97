import Foundation

/// Where a cluster's quorum queues live: each queue's leader and members, as
/// `rabbitmqctl list_queues name leader members --formatter json` prints them.
package struct QueueLeaders: Sendable, Hashable {
    /// One quorum queue: the node that leads it and every node that holds a replica.
    package struct Queue: Sendable, Hashable, Decodable {
        package var name: String
        package var leader: String
        package var members: [String]

        package init(name: String, leader: String, members: [String]) {
            self.name = name
            self.leader = leader
            self.members = members
        }
    }

    package var queues: [Queue]

    package init(queues: [Queue]) { self.queues = queues }

    /// Reads the JSON listing; classic queues (no leader, no members) are left out.
    ///
    /// - Throws: `DecodingError` when the text is not such a listing.
    package init(listing: String) throws {
        struct Row: Decodable {
            var name: String
            var leader: String?
            var members: [String]?
        }
        let rows = try JSONDecoder().decode([Row].self, from: Data(listing.utf8))
        queues = rows.compactMap { row in
            guard let leader = row.leader, !leader.isEmpty, let members = row.members else { return nil }
            return Queue(name: row.name, leader: leader, members: members)
        }
    }

    /// The node that leads the most of `names` (on a tie, the first in name order), with the queues it leads.
    package func busiestLeader(of names: [String]) -> (node: String, queues: [Queue])? {
        let led = Dictionary(grouping: queues.filter { names.contains($0.name) }, by: \.leader)
        return led.min { ($1.value.count, $0.key) < ($0.value.count, $1.key) }.map { ($0.key, $0.value.sorted { $0.name < $1.name }) }
    }
}
