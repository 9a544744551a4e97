import Foundation

/// Another program, run to its end.
enum Subprocess {
    /// Runs `command` (looked up on the PATH) with `input` on its standard input; its standard output.
    ///
    /// - Throws: ``Failure`` with ``ExitStatus/unavailable`` when it cannot be started or exits with a failure.
    static func run(_ command: [String], input: Data?) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        let output = Pipe()
        let errors = Pipe()
        let feed = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = input == nil ? FileHandle.nullDevice : feed
        do {
            try process.run()
        } catch {
            throw Failure(.unavailable, "cannot run \(command.joined(separator: " ")): \(error)")
        }
        if let input {
            feed.fileHandleForWriting.write(input)
            try? feed.fileHandleForWriting.close()
        }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let problems = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            // The first line says what went wrong; rabbitmqctl follows it with a page of diagnostics.
            let said = (problems.isEmpty ? text : problems).split(whereSeparator: \.isNewline).first { !$0.allSatisfy(\.isWhitespace) } ?? ""
            throw Failure(.unavailable, "\(command.joined(separator: " ")) exited with status \(process.terminationStatus): \(said)")
        }
        return text
    }
}
