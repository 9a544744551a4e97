import Foundation
import Testing

@testable import Messaging

/// The envelope's own JSON reader and writer, against the standard's corner cases and against Foundation's parser.
@Suite struct JSONEnvelopeTextTests {
    func members(_ text: String) throws(JSONEnvelopeText.Malformed) -> [String: JSONEnvelopeText.Value] {
        try JSONEnvelopeText.members(of: Array(text.utf8))
    }

    @Test func membersAreReadWithStringsUnescapedAndOtherValuesKeptAsTheyWere() throws {
        let read = try members(#" { "a" : "x\"y\\z\/\n\u00e9\ud83d\ude00" , "n": -1.5e3, "o": {"k": [1, "}", {"x": null}]}, "t": true } "#)
        #expect(read["a"] == .string("x\"y\\z/\né😀"))
        #expect(read["n"] == .raw(ArraySlice("-1.5e3".utf8)))
        #expect(read["o"] == .raw(ArraySlice(#"{"k": [1, "}", {"x": null}]}"#.utf8)))
        #expect(read["t"] == .raw(ArraySlice("true".utf8)))
        #expect(try members("{}").isEmpty)
        #expect(try members(#"{"a":"1","a":"2"}"#)["a"] == .string("2"))
    }

    @Test(arguments: [
        "", " ", "{", "}", #"{"a"}"#, #"{"a":}"#, #"{"a":1,}"#, #"{"a":1}x"#, #"{a:1}"#, #"{"a":01}"#, #"{"a":1.}"#,
        #"{"a":-}"#, #"{"a":1e}"#, #"{"a":tru}"#, #"{"a":"\x"}"#, #"{"a":"\u12"}"#, #"{"a":"\ud800"}"#, #"{"a":"\udc00"}"#,
        "{\"a\":\"\u{01}\"}", #"{"a":[1,2}"#, #"{"a":{"b":1]}"#, #"{"a":1e999}"#, "[1]", "\"s\"",
    ])
    func malformedDocumentsAreRefused(text: String) {
        #expect(throws: JSONEnvelopeText.Malformed.self) { try members(text) }
    }

    @Test func bytesThatAreNotUTF8AreRefused() {
        #expect(throws: JSONEnvelopeText.Malformed(reason: "the body is not UTF-8")) {
            try JSONEnvelopeText.members(of: Array(#"{"a":""#.utf8) + [0xff] + Array(#""}"#.utf8))
        }
    }

    @Test func deepNestingIsRefusedWithoutExhaustingTheStack() {
        let deep = #"{"a":"# + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
        #expect(throws: JSONEnvelopeText.Malformed.self) { try members(deep) }
    }

    @Test func writtenStringsReadBackTheSameHereAndInFoundation() throws {
        let texts = ["", "plain", "quote \" backslash \\ slash /", "line\nreturn\rtab\t", "\u{0}\u{1}\u{1f}\u{7f}", "é😀中"]
        for text in texts {
            var bytes = Array(#"{"k":"#.utf8)
            JSONEnvelopeText.appendString(text, to: &bytes)
            bytes.append(UInt8(ascii: "}"))
            #expect(try JSONEnvelopeText.members(of: bytes)["k"] == .string(text))
            let foundation = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: String]
            #expect(foundation?["k"] == text)
        }
    }

    @Test(arguments: [1, 2, 3])
    func randomDocumentsAreJudgedAsFoundationJudgesThem(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let pieces = [#"{"#, #"}"#, #"["#, #"]"#, #","#, #":"#, #""a""#, #""b\"""#, "1", "-0.5", "2e3", "true", "null", " ", #""\u00e9""#]
        for _ in 0..<3_000 {
            let text = #"{"k":"# + (0..<Int.random(in: 1...8, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined() + "}"
            let ours = (try? members(text)) != nil
            let compact = text.filter { $0 != " " }
            // Foundation forgives a trailing comma; RFC 8259 does not, and neither do we.
            if compact.contains(",}") || compact.contains(",]") {
                #expect(!ours, "\(text)")
                continue
            }
            let theirs = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] != nil
            #expect(ours == theirs, "\(text)")
        }
    }
}
