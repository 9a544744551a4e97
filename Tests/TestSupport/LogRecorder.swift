import Logging
import Synchronization

/// Every line written to its loggers, for a test to read what an operator would see in the log: what a
/// component did, and in which order, in its own words, where a stopwatch would measure the machine.
package final class LogRecorder: Sendable {
    /// One line: its level, its message, and its metadata (the logger's and the line's own) as text.
    package struct Entry: Sendable, Hashable {
        package var level: Logger.Level
        package var message: String
        package var metadata: [String: String]
    }

    private let recorded = Mutex<[Entry]>([])

    package init() {}

    /// The lines written so far, oldest first.
    package var entries: [Entry] { recorded.withLock { $0 } }

    /// A logger that writes its lines from `level` up here.
    package func logger(_ label: String, level: Logger.Level = .info) -> Logger {
        Logger(label: label) { _ in RecordingLogHandler(logLevel: level, recorder: self) }
    }

    fileprivate func record(_ entry: Entry) { recorded.withLock { $0.append(entry) } }
}

private struct RecordingLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    let recorder: LogRecorder

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { _, new in new } }
        if let explicit = event.metadata { fields.merge(explicit) { _, new in new } }
        recorder.record(LogRecorder.Entry(level: event.level, message: event.message.description, metadata: fields.mapValues { "\($0)" }))
    }
}
