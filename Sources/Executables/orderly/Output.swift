import ArgumentParser
import Foundation

/// `--json` for the commands that read: one JSON document on standard output instead of text.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print one JSON document instead of text.")
    var json = false

    /// Prints `value` as JSON when `--json` was given, else runs `text`.
    func print<T: Encodable>(_ value: T, text: () throws -> Void) throws {
        guard json else { return try text() }
        Swift.print(String(decoding: try Self.encoder.encode(value), as: UTF8.self))
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()
}
