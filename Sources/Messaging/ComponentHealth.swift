import Synchronization

/// How a long-running part of a service is doing, for `/health/ready` and the operator.
public struct ComponentHealth: Sendable, Hashable {
    /// `up`: working. `degraded`: working, but something needs attention (events that cannot be
    /// published). `down`: not doing its job (no consumer on the queue).
    public enum Status: String, Sendable, Hashable, Comparable {
        case up, degraded, down

        public static func < (lhs: Status, rhs: Status) -> Bool { lhs.rank < rhs.rank }

        private var rank: Int {
            switch self {
            case .up: 0
            case .degraded: 1
            case .down: 2
            }
        }
    }

    /// The component's name in the readiness report (`consumer`, `outbox`).
    public var name: String
    public var status: Status
    /// What is wrong, in words an operator can act on; `nil` when up.
    public var detail: String?

    public init(name: String, status: Status, detail: String? = nil) {
        self.name = name
        self.status = status
        self.detail = detail
    }
}

/// A part of a service that reports its health, such as ``MessageConsumer`` and ``OutboxRelay``.
public protocol HealthReporting: Sendable {
    var health: ComponentHealth { get }
}

/// A component's current health, written by the component and read by the readiness route.
final class HealthCell: Sendable {
    private let state: Mutex<ComponentHealth>

    init(name: String, status: ComponentHealth.Status = .up) {
        state = Mutex(ComponentHealth(name: name, status: status))
    }

    var value: ComponentHealth { state.withLock { $0 } }

    func set(_ status: ComponentHealth.Status, _ detail: String? = nil) {
        state.withLock {
            $0.status = status
            $0.detail = detail
        }
    }
}
