import ServiceLifecycle

extension Task where Success == Never, Failure == Never {
    /// Whether the current task should stop its loop: it was cancelled, or its service group shuts down gracefully.
    public static var isStopping: Bool { isCancelled || isShuttingDownGracefully }
}

/// Runs `round` every `interval` until the task is cancelled or its service group shuts down
/// gracefully: a round in progress completes, a wait between two rounds ends at once.
///
/// The round handles its own failures (logs them, keeps its last reading): a periodic job that
/// fails once tries again at the next round.
public func repeatUntilShutdown(every interval: Duration, _ round: () async -> Void) async {
    while !Task.isStopping {
        await round()
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
    }
}
