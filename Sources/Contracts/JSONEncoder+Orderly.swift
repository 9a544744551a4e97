import Foundation

extension JSONEncoder {
    /// Orderly's JSON on the wire and in its tables: keys sorted, so that equal values are equal bytes
    /// (an idempotent replay compares them, a webhook signs them), and `/` left as it is.
    ///
    /// Shared and never changed after it is made: take a copy to change a setting.
    package static let orderly: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// JSON for people and the files they keep (the CLI's `--json`, bench and chaos reports):
    /// as ``orderly``, indented, with dates in ISO 8601.
    package static let report: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()
}
