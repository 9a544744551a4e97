import AMQP
import ContractDocuments
import Contracts
import Foundation
import Messaging
import MessagingConventions
import Testing

/// `docs/asyncapi.yaml` against the names and shapes the code actually uses.
@Suite(.timeLimit(.minutes(1)))
struct AsyncAPIContractTests {
    let document: ContractDocument
    var root: YAMLNode { document.root }

    init() throws {
        document = try ContractDocument.asyncAPI.get()
    }

    /// The service that writes each exchange (design.md), as the send operations must say.
    static let writers: [String: String] = [
        Exchange.orders: "order-service", Exchange.payments: "payment-service", Exchange.inventory: "inventory-service",
        Exchange.notifications: "notification-service", Exchange.ingress: "external",
    ]

    // MARK: - Helpers

    /// Channels that are exchanges (`bindings.amqp.is: routingKey`), by key.
    var exchangeChannels: [YAMLNode.Entry] {
        root["channels"]?.entries.filter { $0.value[["bindings", "amqp", "is"]]?.string == "routingKey" } ?? []
    }

    /// The key of the component message named `type`; fails the test unless there is exactly one.
    func messageKey(of type: EventType) throws -> String {
        let keys = root[["components", "messages"]]?.entries.filter { $0.value["name"]?.string == type.rawValue }.map(\.key) ?? []
        try #require(keys.count == 1, "expected one message named \(type.rawValue) in components.messages, found \(keys)")
        return keys[0]
    }

    /// The channel that carries the component message `messageKey`.
    func channelKey(carrying messageKey: String) throws -> String {
        let keys = exchangeChannels.filter { channel in
            channel.value["messages"]?.entries.contains { $0.value.reference == "#/components/messages/\(messageKey)" } ?? false
        }.map(\.key)
        try #require(keys.count == 1, "expected one exchange channel carrying \(messageKey), found \(keys)")
        return keys[0]
    }

    /// The channel message key under `channelKey` that refers to the component message.
    func channelMessageKey(_ channelKey: String, _ messageKey: String) -> String? {
        root[["channels", channelKey, "messages"]]?.entries.first { $0.value.reference == "#/components/messages/\(messageKey)" }?.key
    }

    /// Operations with `action`, on `channelKey`, whose messages include the channel message.
    func operations(action: String, channelKey: String, channelMessageKey: String) -> [YAMLNode.Entry] {
        root["operations"]?.entries.filter { operation in
            operation.value["action"]?.string == action && operation.value[["channel"]]?.reference == "#/channels/\(channelKey)"
                && (operation.value["messages"]?.items.contains { $0.reference == "#/channels/\(channelKey)/messages/\(channelMessageKey)" } ?? false)
        } ?? []
    }

    /// The `data` schema of an event message's payload.
    func dataSchema(ofMessage messageKey: String) throws -> YAMLNode {
        let payload = try #require(root[["components", "messages", messageKey, "payload"]], "\(messageKey) has no payload")
        let data = document.schemas.objectShape(payload).properties.filter { $0.0 == "data" }.map(\.1)
        return try #require(data.first { $0.reference != nil } ?? data.last, "the payload of \(messageKey) documents no data")
    }

    // MARK: - Tests

    @Test func theDocumentIsAsyncAPI3WithTheBrokerAsServer() throws {
        #expect(root["asyncapi"]?.string == "3.0.0")
        #expect(root["defaultContentType"]?.string == CloudEvent.contentType)
        #expect(root[["servers", "local", "host"]]?.string == "127.0.0.1:5672")
        #expect(root[["servers", "local", "protocol"]]?.string == "amqp")
    }

    @Test func everyReferenceResolves() throws {
        for (at, target) in document.references() {
            #expect(document.schemas.resolve(target) != nil, "\(at): $ref '\(target)' points nowhere")
        }
    }

    @Test func theExchangeChannelsAreExactlyTheExchangesOfTheCode() throws {
        let documented = exchangeChannels.map { $0.value["address"]?.string ?? "?" }
        #expect(documented.sorted() == Exchange.all.sorted())
        for channel in exchangeChannels {
            let exchange = channel.value[["bindings", "amqp", "exchange"]]
            #expect(exchange?["name"]?.string == channel.value["address"]?.string, "channel \(channel.key)")
            #expect(exchange?["type"]?.string == "topic", "channel \(channel.key)")
            #expect(exchange?["durable"]?.bool == true, "channel \(channel.key)")
            #expect(exchange?["autoDelete"]?.bool == false, "channel \(channel.key)")
        }
    }

    @Test(arguments: EventType.allCases)
    func everyEventTypeIsAMessageOnItsExchange(type: EventType) throws {
        let messageKey = try messageKey(of: type)
        #expect(messageKey == "\(type)", "name the message after the Swift case, as the other messages are")
        let channelKey = try channelKey(carrying: messageKey)
        #expect(root[["channels", channelKey, "address"]]?.string == type.exchange)
        let message = try #require(root[["components", "messages", messageKey]])
        #expect(message[["bindings", "amqp", "messageType"]]?.string == type.rawValue)
        #expect(message["traits"]?.items.first?.reference == "#/components/messageTraits/cloudEvent")
        let envelope = document.schemas.objectShape(try #require(message["payload"]))
        let typeConstants = envelope.properties.filter { $0.0 == "type" }.compactMap { $0.1["const"]?.string }
        #expect(typeConstants == [type.rawValue], "the payload's CloudEvents type must be the constant \(type.rawValue)")
        let writer = try #require(Self.writers[type.exchange])
        let sources = envelope.properties.filter { $0.0 == "source" }.compactMap { $0.1["const"]?.string }
        #expect(sources == (writer == "external" ? [] : ["/orderly/\(writer)"]))
    }

    @Test(arguments: EventType.allCases)
    func everyEventTypeIsSentOnceByTheWriterOfItsExchange(type: EventType) throws {
        let messageKey = try messageKey(of: type)
        let channelKey = try channelKey(carrying: messageKey)
        let channelMessage = try #require(channelMessageKey(channelKey, messageKey))
        let sends = operations(action: "send", channelKey: channelKey, channelMessageKey: channelMessage)
        try #require(sends.count == 1, "expected one send operation of \(type.rawValue), found \(sends.map(\.key))")
        let send = sends[0].value
        #expect(send["x-orderly-service"]?.string == Self.writers[type.exchange])
        #expect(send[["bindings", "amqp", "deliveryMode"]]?.int == 2, "events are persistent")
    }

    @Test func theReceiveOperationsAreExactlyTheSubscriptions() throws {
        var documented: Set<String> = []
        for operation in root["operations"]?.entries ?? [] where operation.value["action"]?.string == "receive" {
            let queue = operation.value["x-orderly-queue"]?.string ?? "?"
            let channel = operation.value["channel"]?.reference.flatMap { document.schemas.resolve($0) }
            let exchange = channel?["address"]?.string ?? "?"
            for reference in operation.value["messages"]?.items.compactMap(\.reference) ?? [] {
                let name = document.schemas.dereference(try #require(document.schemas.resolve(reference)))?["name"]?.string ?? "?"
                documented.insert("\(queue) ← \(exchange) \(name)")
            }
            #expect(operation.value[["bindings", "amqp", "ack"]]?.bool == true, "\(operation.key): consumers acknowledge manually")
        }
        var subscribed: Set<String> = []
        for queues in Subscriptions.all {
            for subscription in queues.subscriptions {
                for key in subscription.routingKeys { subscribed.insert("\(queues.workQueue) ← \(subscription.exchange) \(key)") }
            }
        }
        #expect(documented.subtracting(subscribed).sorted() == [], "documented but not subscribed")
        #expect(subscribed.subtracting(documented).sorted() == [], "subscribed but not documented")
    }

    @Test(arguments: EventType.allCases)
    func everyPayloadSchemaMatchesItsCodableStruct(type: EventType) throws {
        let full = PayloadSamples.full(type)
        #expect(ObjectIdentifier(Swift.type(of: full)) == ObjectIdentifier(type.payloadType), "the samples use the payload type of the contract")
        let schema = try dataSchema(ofMessage: try messageKey(of: type))
        let checker = document.schemas
        #expect(checker.problems(of: try .encoding(full), against: schema, at: "data", demands: .everyPropertyPresent) == [])
        #expect(
            checker.problems(of: try .encoding(PayloadSamples.minimal(type)), against: schema, at: "data", demands: .everyPresentPropertyRequired)
                == [])

        // The whole message, as the outbox writes it, against the message's payload schema.
        let writer = Self.writers[type.exchange] ?? "?"
        let event = try CloudEvent(
            source: writer == "external" ? "/partner/erp" : "/orderly/\(writer)", type: type.rawValue, subject: "o-1",
            traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", payload: full
        )
        let payload = try #require(root[["components", "messages", try messageKey(of: type), "payload"]])
        #expect(checker.problems(of: try .parsing(event.jsonData()), against: payload, at: "event", demands: .everyPropertyPresent) == [])
    }

    @Test func theEnvelopeSchemaMatchesTheCloudEventsTheCodeWrites() throws {
        let schema = try #require(root[["components", "schemas", "CloudEvent"]])
        let event = try CloudEvent(
            source: "/orderly/order-service", type: EventType.orderPlaced.rawValue, subject: "o-1",
            traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", payload: PayloadSamples.full(.orderPlaced)
        )
        let json = try JSONValue.parsing(event.jsonData())
        #expect(document.schemas.problems(of: json, against: schema, at: "event", demands: .everyPropertyPresent) == [])

        // What the document calls required is what the reader insists on, and nothing else.
        let required = Set(schema["required"]?.strings ?? [])
        let object = try #require(try JSONSerialization.jsonObject(with: event.jsonData()) as? [String: Any])
        for attribute in schema["properties"]?.keys ?? [] {
            var without = object
            without[attribute] = nil
            let data = try JSONSerialization.data(withJSONObject: without)
            let accepted = (try? CloudEvent(json: data)) != nil
            #expect(accepted != required.contains(attribute), "'\(attribute)' is \(required.contains(attribute) ? "" : "not ")documented as required")
        }
    }

    @Test func theMessagesCarryTheAMQPPropertiesOfTheEnvelope() throws {
        let trait = try #require(root[["components", "messageTraits", "cloudEvent"]])
        #expect(trait["contentType"]?.string == CloudEvent.contentType)
        #expect(trait[["headers", "properties", "traceparent"]] != nil)
        let event = try CloudEvent(source: "/orderly/tests", type: "order.placed", subject: "o-1", traceparent: "00-ab-cd-01", payload: [1])
        let properties = event.amqpMessage().properties
        let documented = try #require(trait["x-amqp-properties"])
        #expect(documented["content_type"]?.string == properties.contentType)
        #expect(documented["delivery_mode"]?.string?.hasPrefix(properties.persistent == true ? "2" : "1") == true)
        #expect(documented["message_id"] != nil && properties.messageID == event.id)
        #expect(documented["correlation_id"] != nil && properties.correlationID == event.subject)
        #expect(documented["type"] != nil && properties.type == event.type)
        #expect(documented["timestamp"] != nil && properties.timestamp != nil)
        #expect(documented["app_id"] != nil && properties.appID == event.source)
        #expect(properties.headers["traceparent"]?.stringValue == "00-ab-cd-01")
    }

    @Test(arguments: Subscriptions.all)
    func theQueuesOfEveryServiceAreDocumented(queues: ServiceQueues) throws {
        let services = try #require(root[["components", "parameters", "service", "enum"]]?.strings)
        #expect(services == Subscriptions.all.map(\.service))
        let delays = try #require(root[["components", "parameters", "delay", "enum"]]?.strings)
        let tiers = root[["channels", "retryQueue", "x-orderly-retry-tiers"]]?.items ?? []
        #expect(delays.count == queues.retryPolicy.tiers.count && tiers.count == queues.retryPolicy.tiers.count)

        func address(_ channel: String, delay: String = "") -> String {
            (root[["channels", channel, "address"]]?.string ?? "?").replacingOccurrences(of: "{service}", with: queues.service)
                .replacingOccurrences(of: "{delay}", with: delay)
        }
        #expect(address("workQueue") == queues.workQueue)
        #expect(address("parkingQueue") == queues.parkingQueue)
        for (tier, delay) in queues.retryPolicy.tiers.enumerated() where tier < delays.count && tier < tiers.count {
            #expect(address("retryQueue", delay: delays[tier]) == queues.retryQueue(tier: tier))
            #expect(tiers[tier]["delay"]?.string == delays[tier])
            let milliseconds = delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000
            #expect(tiers[tier]["ttl_ms"]?.int == Int(milliseconds), "the TTL of \(queues.retryQueue(tier: tier))")
        }

        // Every queue the code declares is documented with the same arguments (the TTL apart,
        // which the tiers list), and nothing more.
        for queue in queues.topology.queues {
            let channel: String
            var delay = ""
            if queue.name == queues.workQueue {
                channel = "workQueue"
            } else if queue.name == queues.parkingQueue {
                channel = "parkingQueue"
            } else {
                channel = "retryQueue"
                delay = delays.first { queues.retryQueue(tier: delays.firstIndex(of: $0)!) == queue.name } ?? "?"
            }
            #expect(address(channel, delay: delay) == queue.name)
            let binding = root[["channels", channel, "bindings", "amqp", "queue"]]
            #expect(binding?["durable"]?.bool == queue.durable && binding?["exclusive"]?.bool == queue.exclusive, "\(queue.name)")
            #expect(binding?["autoDelete"]?.bool == queue.autoDelete, "\(queue.name)")
            let documented = root[["channels", channel, "x-orderly-queue-arguments"]]?.entries ?? []
            #expect(documented.map(\.key).sorted() == queue.arguments.keys.sorted(), "the arguments of \(queue.name)")
            for argument in documented where argument.key != "x-message-ttl" {
                let expected = argument.value.string?.replacingOccurrences(of: "{service}", with: queues.service)
                #expect(queue.arguments[argument.key]?.stringValue == expected, "\(argument.key) of \(queue.name)")
            }
        }
    }

    @Test func theParkingHeadersAreTheOnesTheConsumerWrites() throws {
        let checker = document.schemas
        let retried = try #require(root[["components", "messages", "retriedEvent", "headers"]])
        let parked = try #require(root[["components", "messages", "parkedEvent", "headers"]])
        let onRetry: Set = [MessageHeaders.attempts, MessageHeaders.lastError, MessageHeaders.originalExchange, MessageHeaders.originalRoutingKey]
        let onPark = onRetry.union([MessageHeaders.parkedReason, MessageHeaders.parkedAt, MessageHeaders.failureKind])
        let ours = { (names: [String]) in Set(names.filter { $0.hasPrefix("x-orderly-") }) }
        #expect(ours(checker.objectShape(retried).properties.map(\.0)) == onRetry)
        #expect(ours(Array(checker.objectShape(retried).required)) == onRetry)
        #expect(ours(checker.objectShape(parked).properties.map(\.0)) == onPark)
        #expect(ours(Array(checker.objectShape(parked).required)) == onPark)
        let kinds = checker.objectShape(parked).properties.first { $0.0 == MessageHeaders.failureKind }?.1["enum"]?.strings
        #expect(kinds == [FailureKind.transient.rawValue, FailureKind.permanent.rawValue])
    }

    @Test func everyOperationSendsOrReceivesMessagesOfItsOwnChannel() throws {
        for operation in root["operations"]?.entries ?? [] {
            let channel = try #require(operation.value["channel"]?.reference, "\(operation.key) has no channel")
            for reference in operation.value["messages"]?.items ?? [] {
                #expect(reference.reference?.hasPrefix(channel + "/messages/") == true, "\(operation.key): \(reference)")
            }
        }
    }
}
