import Foundation
import Logging
import ServiceKit
import Synchronization
import Testing

@Suite("JSON log lines")
struct JSONLogHandlerTests {
    /// Every line written, as it was written.
    final class Capture: Sendable {
        let lines = Mutex<[[UInt8]]>([])
        var output: LogOutput { LogOutput { line in self.lines.withLock { $0.append(line) } } }
        var text: [String] { lines.withLock { $0.map { String(decoding: $0, as: UTF8.self) } } }

        /// The first line written, as text and as the object it holds.
        func first() throws -> (line: String, object: [String: Any]) {
            let line = try #require(text.first)
            return (line, try JSONLogHandlerTests.object(line))
        }
    }

    static func object(_ line: String) throws -> [String: Any] {
        #expect(line.hasSuffix("\n"))
        #expect(line.dropLast().contains("\n") == false, "one line per call")
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    static func logger(_ capture: Capture, label: String = "order-service", level: Logger.Level = .info) -> Logger {
        Logger(label: label) { label in
            var handler = JSONLogHandler(label: label, service: "order-service", output: capture.output)
            handler.logLevel = level
            return handler
        }
    }

    @Test func aLineHasTheFixedFieldsThenEveryMetadataKey() throws {
        let capture = Capture()
        var logger = Self.logger(capture, label: "order-service.consumer")
        logger[metadataKey: "order.id"] = "6f1c"
        logger.info("order moved", metadata: ["order.status": "PAID", "attempt": "\(2)"])
        let (line, object) = try capture.first()
        #expect(object["level"] as? String == "info")
        #expect(object["service"] as? String == "order-service")
        #expect(object["logger"] as? String == "order-service.consumer")
        #expect(object["message"] as? String == "order moved")
        #expect(object["order.id"] as? String == "6f1c")
        #expect(object["order.status"] as? String == "PAID")
        #expect(object["attempt"] as? String == "2")
        #expect(line.hasPrefix(#"{"timestamp":""#))
        #expect(line.contains(#","level":"info","service":"order-service","logger":"order-service.consumer","message":"order moved","#))
        // Metadata in key order, after the fixed fields.
        let keys = ["attempt", "order.id", "order.status"].map { line.range(of: "\"\($0)\":")!.lowerBound }
        #expect(keys == keys.sorted())
    }

    @Test func theTimestampIsRFC3339InUTCWithMilliseconds() throws {
        let line = JSONLogLine.encode(
            timestamp: Date(timeIntervalSince1970: 1_795_000_000.1239), level: .warning, service: "s", logger: "l", message: "m", metadata: [:])
        let object = try Self.object(String(decoding: line, as: UTF8.self))
        #expect(object["timestamp"] as? String == "2026-11-18T11:06:40.123Z")
        let early = JSONLogLine.encode(
            timestamp: Date(timeIntervalSince1970: -0.5), level: .info, service: "s", logger: "l", message: "m", metadata: [:])
        #expect(try Self.object(String(decoding: early, as: UTF8.self))["timestamp"] as? String == "1969-12-31T23:59:59.500Z")
        let capture = Capture()
        Self.logger(capture).info("now")
        let written = try #require(capture.text.first)
        let now = try #require(try Self.object(written)["timestamp"] as? String)
        #expect(now.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/) != nil)
    }

    @Test func quotesBackslashesAndControlCharactersAreEscapedAndTextSurvives() throws {
        let hostile = "a \"quoted\" \\ back\nslash\r\t\u{08}\u{0C}\u{01}\u{1F}\u{7F} é ∑ 🧾 </script>"
        let capture = Capture()
        Self.logger(capture).error("\(hostile)", metadata: [hostile: "\(hostile)"])
        let (line, object) = try capture.first()
        #expect(line.contains(#"\"quoted\" \\ back\nslash\r\t\b\f\u0001\u001f\u007f"#))
        #expect(object["message"] as? String == hostile)
        #expect(object[hostile] as? String == hostile)
    }

    @Test func nestedMetadataIsFlattenedIntoDottedKeysAndArraysStayArrays() throws {
        let capture = Capture()
        Self.logger(capture).info(
            "nested",
            metadata: [
                "http": ["request": ["method": "POST"], "status": "202"],
                "skus": ["SKU-1", "SKU-2"],
                "mixed": [["a": "1"], "b"],
                "empty": [:],
            ])
        let object = try capture.first().object
        #expect(object["http.request.method"] as? String == "POST")
        #expect(object["http.status"] as? String == "202")
        #expect(object["skus"] as? [String] == ["SKU-1", "SKU-2"])
        let mixed = try #require(object["mixed"] as? [Any])
        #expect((mixed.first as? [String: String]) == ["a": "1"])
        #expect(mixed.last as? String == "b")
        #expect((object["empty"] as? [String: Any])?.isEmpty == true)
    }

    @Test func metadataCannotHideAFixedField() throws {
        let capture = Capture()
        Self.logger(capture).info("the real message", metadata: ["message": "forged", "level": "critical", "timestamp": "0"])
        let (line, object) = try capture.first()
        #expect(object["message"] as? String == "the real message")
        #expect(object["level"] as? String == "info")
        #expect(object["metadata.message"] as? String == "forged")
        #expect(object["metadata.level"] as? String == "critical")
        #expect(line.components(separatedBy: #""message":"#).count == 2)
    }

    @Test func laterMetadataWinsAndTheProviderIsRead() throws {
        let capture = Capture()
        let provider = Logger.MetadataProvider { ["provided": "yes", "order.id": "from-provider"] }
        var logger = Logger(label: "x") { JSONLogHandler(label: $0, service: "s", output: capture.output, metadataProvider: provider) }
        logger[metadataKey: "order.id"] = "from-logger"
        logger[metadataKey: "kept"] = "k"
        logger.info("one", metadata: ["order.id": "from-call"])
        let object = try capture.first().object
        #expect(object["order.id"] as? String == "from-call")
        #expect(object["provided"] as? String == "yes")
        #expect(object["kept"] as? String == "k")
    }

    @Test func linesBelowTheLevelAreNotWritten() {
        let capture = Capture()
        let logger = Self.logger(capture, level: .warning)
        logger.info("quiet")
        logger.debug("quieter")
        logger.warning("loud")
        #expect(capture.text.count == 1)
    }

    @Test func linesWrittenFromManyThreadsAtOnceStayWhole() async throws {
        // Through the real standard-error writer's path: a pipe read back while eight tasks log at once.
        var descriptors: [Int32] = [0, 0]
        #expect(pipe(&descriptors) == 0)
        let (readEnd, writeEnd) = (descriptors[0], descriptors[1])
        let output = LogOutput.fileDescriptor(writeEnd)
        let reader = Task.detached {
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = read(readEnd, &buffer, buffer.count)
                if count <= 0 { break }
                bytes += buffer[0..<count]
            }
            return bytes
        }
        let padding = String(repeating: "x", count: 3000)
        await withTaskGroup(of: Void.self) { group in
            for writer in 0..<8 {
                group.addTask {
                    let logger = Logger(label: "w\(writer)") { JSONLogHandler(label: $0, service: "s", output: output) }
                    for index in 0..<200 { logger.info("line \(index)", metadata: ["writer": "\(writer)", "padding": "\(padding)"]) }
                }
            }
        }
        close(writeEnd)
        let text = String(decoding: await reader.value, as: UTF8.self)
        close(readEnd)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 1600)
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect((object["padding"] as? String)?.count == 3000)
        }
    }
}
