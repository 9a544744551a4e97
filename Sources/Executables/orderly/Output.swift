import ArgumentParser
import Contracts
import Foundation

/// `--json` for the commands that read: one JSON document on standard output instead of text.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print one JSON document instead of text.")
    var json = false

    /// Prints `value` as JSON when `--json` was given, else runs `text`.
    func print<T: Encodable>(_ value: T, text: () throws -> Void) throws {
        guard json else { return try text() }
        Swift.print(String(decoding: try JSONEncoder.report.encode(value), as: UTF8.self))
    }
}
