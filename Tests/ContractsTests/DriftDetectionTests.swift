import ContractDocuments
import Contracts
import Testing

/// The checks of the contract tests fail when a name drifts: these feed them drifted documents.
@Suite struct DriftDetectionTests {
    static let document = """
        components:
          schemas:
            Line:
              type: object
              required: [sku, quantity, unit_price_cents]
              properties:
                sku: {type: string}
                quantity: {type: integer}
                unit_price_cents: {type: integer}
            Renamed:
              type: object
              required: [sku, quantity, unit_price]
              properties:
                sku: {type: string}
                quantity: {type: integer}
                unit_price: {type: integer}
            Optional:
              type: object
              required: [sku]
              properties:
                sku: {type: string}
                quantity: {type: integer}
                unit_price_cents: {type: integer}
            Textual:
              $ref: '#/components/schemas/Stringly'
            Stringly:
              type: object
              properties:
                sku: {type: string}
                quantity: {type: string}
                unit_price_cents: {type: integer}
        """

    let checker: SchemaChecker
    let line = OrderLine(sku: "SKU-1", quantity: 2, unitPriceCents: 1250)

    init() throws {
        checker = SchemaChecker(document: try YAMLReader.read(Self.document))
    }

    func problems(_ schema: String, _ demands: SchemaChecker.Demands) throws -> [String] {
        checker.problems(
            of: try .encoding(line), against: .mapping([.init(key: "$ref", value: .scalar("#/components/schemas/\(schema)", quoted: true))]),
            demands: demands)
    }

    @Test func aMatchingSchemaHasNoProblems() throws {
        #expect(try problems("Line", [.everyPropertyPresent, .everyPresentPropertyRequired]) == [])
    }

    @Test func aRenamedFieldIsCaughtBothWays() throws {
        #expect(
            try problems("Renamed", []) == [
                "$.unit_price: required by the document but missing from the JSON", "$.unit_price_cents: in the JSON but not documented",
            ])
    }

    @Test func aFieldTheCodeAlwaysSendsMustBeRequired() throws {
        #expect(
            try problems("Optional", .everyPresentPropertyRequired) == [
                "$.quantity: always in the JSON but not documented as required",
                "$.unit_price_cents: always in the JSON but not documented as required",
            ])
    }

    @Test func aWrongTypeIsCaughtThroughAReference() throws {
        #expect(try problems("Textual", []) == ["$.quantity: 2 is not of type string"])
    }

    @Test(arguments: [
        ("a: &anchor 1", "line 1: unsupported YAML syntax '&anchor 1' (anchors, aliases and tags are not in the subset)"),
        ("a: 1\na: 2", "line 2: duplicate key 'a'"),
        ("a:\n  b: 1\n    c: 2", "line 3: unexpected indentation"),
        ("a: [1, 2", "line 1: expected ',' or ']' in a flow sequence"),
        ("a: 'open", "line 1: unterminated quoted string"),
    ])
    func theReaderRefusesWhatIsOutsideTheSubset(text: String, message: String) {
        do {
            let node = try YAMLReader.read(text)
            Issue.record("read \(node) from a document outside the subset")
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func theReaderReadsTheSubset() throws {
        let node = try YAMLReader.read(
            """
            # a comment
            name: orderly   # trailing comment
            url: http://127.0.0.1:8080
            quoted: 'it''s #1'
            list:
              - one
              - key: value
                other: [a, 'b c', {x: 1}]
            text: |
              line one
              # not a comment

              line three
            empty:
            """
        )
        #expect(node["name"]?.string == "orderly")
        #expect(node["url"]?.string == "http://127.0.0.1:8080")
        #expect(node["quoted"]?.string == "it's #1")
        #expect(node["list"]?.items.first?.string == "one")
        #expect(node["list"]?.items.last?["key"]?.string == "value")
        #expect(node["list"]?.items.last?[["other"]]?.items.count == 3)
        #expect(node["list"]?.items.last?["other"]?.items.last?["x"]?.int == 1)
        #expect(node["text"]?.string == "line one\n# not a comment\n\nline three\n")
        #expect(node["empty"] == .null)
    }
}
