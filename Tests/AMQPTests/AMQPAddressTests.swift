import Testing

@testable import AMQP

/// The addresses of a cluster in the URL, and the order a connection tries them in.
@Suite struct AMQPAddressTests {
    @Test func theFailoverListFollowsTheURLsOwnHost() throws {
        let configuration = try AMQPConfiguration(
            url: "amqp://app:pw@node-1:5673/orders?failover=node-2:5674,%20node-3%20,%5B::1%5D:5675&heartbeat=5")
        #expect(
            configuration.addresses == [
                AMQPAddress(host: "node-1", port: 5673), AMQPAddress(host: "node-2", port: 5674), AMQPAddress(host: "node-3", port: 5672),
                AMQPAddress(host: "::1", port: 5675),
            ])
        #expect(configuration.addresses.map(\.description) == ["node-1:5673", "node-2:5674", "node-3:5672", "[::1]:5675"])
        // The other settings of the query are read as before.
        #expect(configuration.heartbeat == .seconds(5))
        #expect(configuration.virtualHost == "orders")
    }

    @Test func aListOfHostsInTheURLIsItsFirstHostAndAFailoverList() throws {
        let configuration = try AMQPConfiguration(url: "amqp://app:p,w@node-1:5673, node-2:5674,[::1]/orders?failover=node-4&heartbeat=5")
        #expect(configuration.addresses.map(\.description) == ["node-1:5673", "node-2:5674", "[::1]:5672", "node-4:5672"])
        #expect(configuration.password == "p,w")
        #expect(configuration.virtualHost == "orders")
        #expect(configuration.heartbeat == .seconds(5))
    }

    @Test(arguments: [
        ("amqp://u:p@h1:1,h2:2,h3/v", "amqp://u:p@h1:1/v?failover=h2:2,h3"),
        ("amqp://u:p@h1,h2", "amqp://u:p@h1?failover=h2"),
        ("amqp://h1,h2/?heartbeat=5#top", "amqp://h1/?failover=h2&heartbeat=5#top"),
        ("amqp://u:p@h1:1/v?", "amqp://u:p@h1:1/v?"),
        ("amqp://u:a,b@h1/", "amqp://u:a,b@h1/"),
        ("amqp://h1, [::1]:2/", "amqp://h1/?failover=%5B::1%5D:2"),
        ("not a url", "not a url"),
    ])
    func aListOfHostsIsRewrittenAsOneHostAndAFailoverList(url: String, expected: String) {
        #expect(AMQPConfiguration.singleHostURL(url) == expected)
    }

    @Test func anIPv6AddressMayStandInTheFailoverListAsItIs() throws {
        #expect(try AMQPConfiguration(url: "amqp://a@h1/?failover=[::1]:5675").failover == [AMQPAddress(host: "::1", port: 5675)])
        #expect(try AMQPConfiguration(url: "amqp://a@h1,[::1]:5675/").failover == [AMQPAddress(host: "::1", port: 5675)])
    }

    @Test func aURLWithoutAFailoverListHasOneAddress() throws {
        #expect(try AMQPConfiguration(url: "amqp://app:pw@broker.local/").addresses == [AMQPAddress(host: "broker.local")])
    }

    @Test func repeatedFailoverParametersAddUp() throws {
        let configuration = try AMQPConfiguration(url: "amqp://a@h1?failover=h2:1&failover=h3:2")
        #expect(configuration.failover == [AMQPAddress(host: "h2", port: 1), AMQPAddress(host: "h3", port: 2)])
    }

    @Test(arguments: [
        ("", "no host"), ("h2,,h3", "no host"), ("h2:", "port"), ("h2:http", "port"), ("h2:70000", "port"), ("h2:0", "port"),
        ("::1:5672", "IPv6 address in brackets"), ("[::1", "closing ]"), ("[::1]5672", ":port after ]"), ("[]:5672", "no host"),
    ])
    func aBadFailoverEntryIsRefusedWithTheReason(entry: String, reason: String) throws {
        for url in ["amqp://a@h1/?failover=\(entry)", "amqp://a@h1,\(entry)/"] {
            let error = #expect(throws: AMQPError.self) { try AMQPConfiguration(url: url) }
            #expect(error?.code == .invalidConfiguration)
            #expect(error?.message.contains(reason) == true, "\(url): \(error?.message ?? "no error")")
        }
    }

    @Test func afterAFailureTheNextAddressIsTriedAtOnceAndOnlyAFullRoundBacksOff() {
        var rotation = AddressRotation(count: 3)
        #expect(rotation.current == 0)
        #expect(rotation.failed() == nil)
        #expect(rotation.current == 1)
        #expect(rotation.failed() == nil)
        #expect(rotation.failed() == 0)  // All three failed: the first backoff, then round two.
        #expect(rotation.current == 0)
        #expect([rotation.failed(), rotation.failed(), rotation.failed()] == [nil, nil, 1])
        rotation.connected()
        #expect(rotation.current == 0)
        #expect(rotation.failed() == nil)  // A success starts afresh.
    }

    @Test func aLostConnectionMovesOnToTheNextAddressAtOnce() {
        var rotation = AddressRotation(count: 3)
        _ = rotation.failed()
        rotation.connected()  // On the second address.
        #expect(rotation.lost() == nil)
        #expect(rotation.current == 2)
        #expect(rotation.failed() == nil)
        #expect(rotation.failed() == 0)  // The lost node, the next and the one after it: a full round.
    }

    @Test func withOneAddressEveryFailureBacksOffLongerAsBefore() {
        var rotation = AddressRotation(count: 1)
        #expect([rotation.failed(), rotation.failed(), rotation.failed()] == [0, 1, 2])
        rotation.connected()
        #expect(rotation.lost() == 0)
        #expect(rotation.failed() == 1)
        #expect(rotation.current == 0)
    }
}
