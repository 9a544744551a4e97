import Foundation
import Logging
import Synchronization

/// A swift-log handler that writes one JSON object per line:
///
/// ```json
/// {"timestamp":"2026-11-28T10:15:02.317Z","level":"info","service":"order-service","logger":"order-service","message":"order moved","amqp.queue":"order","event.type":"payment.succeeded","order.id":"6f1c…","span.id":"b7ad6b7169203331","trace.id":"4bf92f3577b34da6a3ce929d0e0e4736"}
/// ```
///
/// The timestamp is RFC 3339 in UTC with milliseconds; every metadata key (the handler's, the
/// provider's and the call's, later ones winning) is a field of its own, in key order, after the five
/// fixed ones; a nested dictionary is flattened into dotted keys, an array stays an array. A metadata
/// key that would hide a fixed field is written as `metadata.<key>`.
///
/// Thread safety: a line is built in a buffer of its own and written with one `write(2)`, under a lock
/// shared by every handler of the process, so lines from different threads never interleave.
package struct JSONLogHandler: LogHandler {
    package var logLevel: Logger.Level = .info
    package var metadata: Logger.Metadata = [:]
    package var metadataProvider: Logger.MetadataProvider?
    let label: String
    let service: String
    let output: LogOutput

    /// - Parameters:
    ///   - label: the logger's label, written as `logger`.
    ///   - service: the process's service, written as `service`.
    ///   - output: where lines go; standard error by default.
    package init(label: String, service: String, output: LogOutput = .standardError, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.service = service
        self.output = output
        self.metadataProvider = metadataProvider
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { _, new in new } }
        if let explicit = event.metadata { fields.merge(explicit) { _, new in new } }
        if let error = event.error, fields["error"] == nil { fields["error"] = "\(error)" }
        output.write(
            JSONLogLine.encode(
                timestamp: .now, level: event.level, service: service, logger: label, message: event.message.description, metadata: fields))
    }
}

/// Where a ``JSONLogHandler`` writes its lines.
package struct LogOutput: Sendable {
    let sink: @Sendable ([UInt8]) -> Void

    /// Lines handed to `sink`, one call per line (for tests, or another destination).
    package init(_ sink: @escaping @Sendable ([UInt8]) -> Void) { self.sink = sink }

    /// Standard error, one `write(2)` per line under a process-wide lock.
    package static let standardError = LogOutput { line in FileDescriptorWriter.standardError.writeLine(line) }

    /// An open file descriptor, one `write(2)` per line under a lock of its own.
    package static func fileDescriptor(_ descriptor: Int32) -> LogOutput {
        let writer = FileDescriptorWriter(descriptor: descriptor)
        return LogOutput { line in writer.writeLine(line) }
    }

    func write(_ line: [UInt8]) { sink(line) }
}

/// Writes whole lines to a file descriptor, one at a time.
final class FileDescriptorWriter: Sendable {
    static let standardError = FileDescriptorWriter(descriptor: STDERR_FILENO)

    private let descriptor: Int32
    private let lock = Mutex(())

    init(descriptor: Int32) { self.descriptor = descriptor }

    /// Writes all of `bytes`, going on after a short write or an interrupted call; gives up on any
    /// other error, since a log line has nowhere else to go.
    func writeLine(_ bytes: [UInt8]) {
        lock.withLock { _ in
            bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0 && errno == EINTR {
                        continue
                    } else {
                        return
                    }
                }
            }
        }
    }
}

/// The JSON text of one log line; pure, so that its escaping and layout are tested on their own.
package enum JSONLogLine {
    /// The fields every line starts with, in this order.
    static let fixedFields: Set<String> = ["timestamp", "level", "service", "logger", "message"]

    /// One line, newline included.
    package static func encode(
        timestamp: Date, level: Logger.Level, service: String, logger: String, message: String, metadata: Logger.Metadata
    ) -> [UInt8] {
        var line: [UInt8] = []
        line.reserveCapacity(256 + message.utf8.count)
        line.append(contentsOf: #"{"timestamp":""#.utf8)
        appendTimestamp(timestamp, to: &line)
        line.append(contentsOf: #"","level":"#.utf8)
        appendString(level.rawValue, to: &line)
        line.append(contentsOf: #","service":"#.utf8)
        appendString(service, to: &line)
        line.append(contentsOf: #","logger":"#.utf8)
        appendString(logger, to: &line)
        line.append(contentsOf: #","message":"#.utf8)
        appendString(message, to: &line)
        var flattened: [(String, Logger.Metadata.Value)] = []
        flatten(metadata, prefix: "", into: &flattened)
        for (key, value) in flattened.sorted(by: { $0.0 < $1.0 }) {
            line.append(UInt8(ascii: ","))
            appendString(fixedFields.contains(key) ? "metadata." + key : key, to: &line)
            line.append(UInt8(ascii: ":"))
            appendValue(value, to: &line)
        }
        line.append(contentsOf: "}\n".utf8)
        return line
    }

    /// Nested dictionaries become dotted keys; everything else is kept as it is.
    private static func flatten(_ metadata: Logger.Metadata, prefix: String, into fields: inout [(String, Logger.Metadata.Value)]) {
        for (key, value) in metadata {
            if case .dictionary(let nested) = value, !nested.isEmpty {
                flatten(nested, prefix: prefix + key + ".", into: &fields)
            } else {
                fields.append((prefix + key, value))
            }
        }
    }

    private static func appendValue(_ value: Logger.Metadata.Value, to line: inout [UInt8]) {
        switch value {
        case .string(let text): appendString(text, to: &line)
        case .stringConvertible(let convertible): appendString(convertible.description, to: &line)
        case .array(let values):
            line.append(UInt8(ascii: "["))
            for (index, element) in values.enumerated() {
                if index > 0 { line.append(UInt8(ascii: ",")) }
                appendValue(element, to: &line)
            }
            line.append(UInt8(ascii: "]"))
        case .dictionary(let nested):
            line.append(UInt8(ascii: "{"))
            for (index, (key, element)) in nested.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { line.append(UInt8(ascii: ",")) }
                appendString(key, to: &line)
                line.append(UInt8(ascii: ":"))
                appendValue(element, to: &line)
            }
            line.append(UInt8(ascii: "}"))
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// A JSON string: quotes, backslashes and control characters escaped (RFC 8259), the rest as UTF-8.
    static func appendString(_ text: String, to line: inout [UInt8]) {
        line.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): line.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): line.append(contentsOf: #"\\"#.utf8)
            case UInt8(ascii: "\n"): line.append(contentsOf: #"\n"#.utf8)
            case UInt8(ascii: "\r"): line.append(contentsOf: #"\r"#.utf8)
            case UInt8(ascii: "\t"): line.append(contentsOf: #"\t"#.utf8)
            case 0x08: line.append(contentsOf: #"\b"#.utf8)
            case 0x0c: line.append(contentsOf: #"\f"#.utf8)
            case 0..<0x20, 0x7f:
                line.append(contentsOf: #"\u00"#.utf8)
                line.append(hexDigits[Int(byte >> 4)])
                line.append(hexDigits[Int(byte & 0xf)])
            default: line.append(byte)
            }
        }
        line.append(UInt8(ascii: "\""))
    }

    /// `2026-11-28T10:15:02.317Z`, without a formatter: a log line must stay cheap.
    static func appendTimestamp(_ date: Date, to line: inout [UInt8]) {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds.floorDivided(by: 1000))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            var value = value
            for _ in 0..<count {
                line.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                value %= divisor
                divisor /= 10
            }
        }
        digits(Int(parts.tm_year) + 1900, 4)
        line.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, 2)
        line.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), 2)
        line.append(UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), 2)
        line.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_min), 2)
        line.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), 2)
        line.append(UInt8(ascii: "."))
        digits(Int(milliseconds - milliseconds.floorDivided(by: 1000) * 1000), 3)
        line.append(UInt8(ascii: "Z"))
    }
}

extension Int64 {
    /// Division rounding toward minus infinity, so that times before 1970 keep positive milliseconds.
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
