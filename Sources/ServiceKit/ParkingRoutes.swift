import AMQP
import Foundation
import Hummingbird
import Logging
import Messaging
import MessagingConventions

/// What an operator does with a service's parking queue, as the service itself: look and replay.
///
/// Each call opens a short connection to the broker as the service's own user (which may read its work
/// and parking queues and nothing else's) and closes it at the end, so that nothing a call took stays
/// held: whatever it did not settle goes back to the queue when the connection closes.
package struct ParkingAdmin: Sendable {
    /// The service's name (`payment-service`).
    package let service: String
    package let parking: ParkingQueue
    let amqp: AMQPConfiguration
    let logger: Logger

    package init(service: String, queues: ServiceQueues, amqp: AMQPConfiguration, logger: Logger) {
        self.service = service
        self.parking = ParkingQueue(queues: queues)
        var amqp = amqp
        amqp.connectionName = "\(service) parking"
        self.amqp = amqp
        self.logger = logger
    }

    /// The answer of `GET /v1/admin/parked`.
    package struct Listing: ResponseEncodable, Sendable, Hashable {
        package var service: String
        package var queue: String
        package var workQueue: String
        package var count: Int
        package var messages: [ParkedMessage]

        package init(service: String, queue: String, workQueue: String, count: Int, messages: [ParkedMessage]) {
            self.service = service
            self.queue = queue
            self.workQueue = workQueue
            self.count = count
            self.messages = messages
        }

        enum CodingKeys: String, CodingKey {
            case service, queue, count, messages
            case workQueue = "work_queue"
        }
    }

    /// The answer of `POST /v1/admin/parked/replay`.
    package struct Replay: ResponseEncodable, Sendable, Hashable {
        package var service: String
        package var queue: String
        package var workQueue: String
        /// The message ids sent back to work, in queue order.
        package var replayed: [String]
        /// Of the message ids asked for, those not found among the messages read.
        package var notFound: [String]

        package init(service: String, queue: String, workQueue: String, replayed: [String], notFound: [String]) {
            self.service = service
            self.queue = queue
            self.workQueue = workQueue
            self.replayed = replayed
            self.notFound = notFound
        }

        enum CodingKeys: String, CodingKey {
            case service, queue, replayed
            case workQueue = "work_queue"
            case notFound = "not_found"
        }
    }

    /// The first `limit` parked messages, left parked.
    package func list(limit: Int) async throws -> Listing {
        let listing = try await withBroker { try await parking.peek(limit: limit, on: $0) }
        return Listing(
            service: service, queue: listing.queue, workQueue: parking.queues.workQueue, count: listing.count,
            messages: listing.messages)
    }

    /// Sends parked messages back to work: among the first `limit`, those with these ids, or all when `ids` is `nil`.
    package func replay(ids: [String]?, limit: Int) async throws -> Replay {
        let replayed = try await withBroker { try await parking.replay(ids: ids.map(Set.init), limit: limit, on: $0) }
        logger.notice(
            "parked messages replayed",
            metadata: ["amqp.queue": "\(parking.queues.parkingQueue)", "count": "\(replayed.count)", "message.ids": "\(replayed)"])
        let found = Set(replayed)
        return Replay(
            service: service, queue: parking.queues.parkingQueue, workQueue: parking.queues.workQueue, replayed: replayed,
            notFound: (ids ?? []).filter { !found.contains($0) })
    }

    private func withBroker<T>(_ body: (AMQPConnection) async throws -> T) async throws -> T {
        do {
            return try await AMQPConnection.withConnection(configuration: amqp, logger: logger, body)
        } catch let error as AMQPError {
            throw Problem(.serviceUnavailable, detail: "the broker did not let \(service) read its parking queue: \(error)")
        }
    }
}

/// `GET /v1/admin/parked` and `POST /v1/admin/parked/replay`, which every service with a work queue
/// serves behind its admin key (``AccessKeyMiddleware/admin(keys:)``).
///
/// | route | query | answer |
/// | --- | --- | --- |
/// | `GET /v1/admin/parked` | `limit` (1–1000, default 100) | the parking queue's count and its first `limit` messages, left parked |
/// | `POST /v1/admin/parked/replay` | `message_id` (repeatable; none: all), `limit` (default 1000) | the ids sent back to the work queue |
package enum ParkingRoutes {
    package static func add<Context: RequestContext>(to router: Router<Context>, admin: ParkingAdmin, keys: AccessKeys) {
        let group = router.adminGroup(keys: keys)
        group.get("parked") { request, context in try await list(request, context: context, admin: admin) }
        group.post("parked/replay") { request, context in try await replay(request, context: context, admin: admin) }
    }

    /// Answers `GET /v1/admin/parked` for `admin`'s queue (its key already checked).
    package static func list(_ request: Request, context: some RequestContext, admin: ParkingAdmin) async throws -> Response {
        let limit = try Self.limit(request, default: 100)
        return try EditedResponse(headers: .noStore, response: try await admin.list(limit: limit)).response(from: request, context: context)
    }

    /// Answers `POST /v1/admin/parked/replay` for `admin`'s queue (its key already checked).
    package static func replay(_ request: Request, context: some RequestContext, admin: ParkingAdmin) async throws -> Response {
        let limit = try Self.limit(request, default: ParkingQueue.maxMessages)
        let ids = request.uri.queryParameters.getAll("message_id").map { String($0) }
        let replay = try await admin.replay(ids: ids.isEmpty ? nil : ids, limit: limit)
        return try EditedResponse(headers: .noStore, response: replay).response(from: request, context: context)
    }

    /// The `limit` query parameter, 1 to ``ParkingQueue/maxMessages``.
    static func limit(_ request: Request, default value: Int) throws -> Int {
        guard let text = request.uri.queryParameters["limit"] else { return value }
        guard let limit = Int(text), (1...ParkingQueue.maxMessages).contains(limit) else {
            throw Problem(
                .unprocessableContent, detail: "the query is not valid",
                errors: [.init(field: "limit", message: "must be a whole number from 1 to \(ParkingQueue.maxMessages)")])
        }
        return limit
    }
}
