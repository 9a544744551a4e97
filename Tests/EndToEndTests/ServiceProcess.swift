import Foundation
import Postgres
import TestSupport
import Testing

/// One service executable run on its own with a given environment, for what happens at start and stop.
final class ServiceProcess: @unchecked Sendable {
    // Confined to the test that made it; Process is not Sendable.
    let process = Process()
    let service: String
    let stderr = Pipe()

    init(_ service: String, environment overrides: [String: String]) {
        self.service = service
        process.executableURL = SystemUnderTest.binDirectory.appendingPathComponent(service)
        var environment = ProcessInfo.processInfo.environment
        environment["ORDERLY_LOG_LEVEL"] = "warning"
        for (name, value) in overrides { environment[name] = value }
        process.environment = environment
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
    }

    func start() throws { try process.run() }

    /// Waits for the process to exit (killing it after `timeout`) and returns its status and standard error.
    func exit(within timeout: Duration) async throws -> (status: Int32, reason: Process.TerminationReason, stderr: String) {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning {
            Issue.record("\(service) still runs after \(timeout)")
            process.terminate()
        }
        process.waitUntilExit()
        let text = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (process.terminationStatus, process.terminationReason, text)
    }

    /// Runs the service until it exits and checks that it failed cleanly: the given status, a last
    /// line `<service>: error: …` containing `expected`, and no crash report.
    static func expectCleanFailure(
        _ service: String, environment: [String: String], status: Int32, saying expected: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let process = ServiceProcess(service, environment: environment)
        try process.start()
        // More than the 30 s startup timeout a service has by default, so that its own last line, not this wait, ends a run.
        let (exitStatus, reason, stderr) = try await process.exit(within: .seconds(60))
        let lastLine = stderr.split(separator: "\n").last.map(String.init) ?? ""
        #expect(reason == .exit, "\(service) died of a signal: \(stderr)", sourceLocation: sourceLocation)
        #expect(exitStatus == status, "exit status \(exitStatus); stderr: \(stderr)", sourceLocation: sourceLocation)
        #expect(lastLine.hasPrefix("\(service): error: "), "last line: \(lastLine)", sourceLocation: sourceLocation)
        #expect(lastLine.contains(expected), "last line: \(lastLine)", sourceLocation: sourceLocation)
        #expect(!stderr.contains("Fatal error") && !stderr.contains("Backtrace"), "a crash report: \(stderr)", sourceLocation: sourceLocation)
    }
}
