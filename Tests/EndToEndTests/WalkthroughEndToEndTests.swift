import Foundation
import LocalRun
import TestSupport
import Testing

/// README's walkthrough ("A first order, step by step"), run as written: every shell block marked
/// `<!-- walkthrough … -->` goes to bash verbatim, in order, from a folder laid out as a checkout after
/// `./infra/dev up` (`.build/release/orderly`, `.data/secrets`, `.data/mail`), against a whole system
/// of its own. Each block must exit 0 and print what its marker says; the shell's variables carry
/// from one block to the next, as in one terminal.
@Suite("EndToEnd README walkthrough", .runningSystem(), .timeLimit(.minutes(5)))
struct WalkthroughEndToEndTests {
    static let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("README.md")

    @Test func theWalkthroughRunsAsWrittenAndShowsWhatItSays() async throws {
        let system = try #require(SystemUnderTest.current)
        let blocks = Walkthrough.blocks(in: try String(contentsOf: Self.readme, encoding: .utf8))
        #expect(blocks.count >= 10, "README marks \(blocks.count) walkthrough blocks")
        // Whatever else it shows, the walkthrough shows an order completing, the stock, and a parked message replayed.
        for outcome in [#""status":"COMPLETED""#, "available", "parked", "replayed 1 message"] {
            #expect(blocks.contains { $0.expectation?.text.contains(outcome) == true }, "no block of the walkthrough shows \(outcome)")
        }

        let checkout = try Walkthrough.checkout(for: system)
        await Walkthrough.run(
            blocks, in: checkout,
            addresses: [
                "ORDERS": system.local.url(.init("order-service")), "STOCK": system.local.url(.init("inventory-service")),
                "GATEWAY": system.local.url(.init("gateway-sim")),
            ])
    }
}

/// Reading README's marked blocks and running them.
enum Walkthrough {
    struct Block {
        var line: Int
        var script: String
        var expectation: Expectation?
    }

    struct Expectation {
        enum Kind {
            /// The output contains the text.
            case expect
            /// The block is run again (it only reads) until its output contains the text, for up to a minute.
            case waitFor
        }

        var kind: Kind
        var text: String
    }

    /// The ```sh blocks right after a `<!-- walkthrough -->`, `<!-- walkthrough: expect "TEXT" -->` or
    /// `<!-- walkthrough: wait for "TEXT" -->` line (`\"` for a quote in TEXT).
    static func blocks(in readme: String) -> [Block] {
        let lines = readme.components(separatedBy: "\n")
        let marker = #/^<!-- walkthrough(?:: (expect|wait for) "((?:[^"\\]|\\.)*)")? -->$/#
        var blocks: [Block] = []
        var index = 0
        while index < lines.count {
            defer { index += 1 }
            guard let match = try? marker.wholeMatch(in: lines[index]), index + 1 < lines.count, lines[index + 1] == "```sh" else { continue }
            let expectation = match.output.1.map { kind in
                Expectation(
                    kind: kind == "expect" ? .expect : .waitFor, text: String(match.output.2 ?? "").replacingOccurrences(of: #"\""#, with: #"""#))
            }
            var body: [String] = []
            var end = index + 2
            while end < lines.count, lines[end] != "```" {
                body.append(lines[end])
                end += 1
            }
            blocks.append(Block(line: index + 3, script: body.joined(separator: "\n"), expectation: expectation))
            index = end
        }
        return blocks
    }

    /// A folder laid out as a checkout after `./infra/dev up`, for `system`: the CLI at `.build/release/orderly`,
    /// the API key and the operator's logins under `.data/secrets`, the mail under `.data/mail`.
    static func checkout(for system: SystemUnderTest) throws -> URL {
        try FileManager.default.createDirectory(at: system.mailDirectory, withIntermediateDirectories: true)
        return try checkout(
            at: system.local.workDirectory.appendingPathComponent("checkout"), apiKey: system.apiKey ?? "", mail: system.mailDirectory,
            operatorEnvironment: [
                "ORDERLY_AMQP_URL": system.amqpURL, "ORDERLY_DATABASE_URL": system.databaseURL,
                "ORDERLY_INVENTORY_URL": system.local.url(.init("inventory-service")),
            ])
    }

    /// A folder at `root` laid out as a checkout after `./infra/dev up`: the CLI the tests run at
    /// `.build/release/orderly`, `apiKey` and the operator's logins (`operatorEnvironment`) under
    /// `.data/secrets`, and `mail` as `.data/mail`.
    static func checkout(at root: URL, apiKey: String, mail: URL, operatorEnvironment: [String: String]) throws -> URL {
        let files = FileManager.default
        let release = root.appendingPathComponent(".build/release")
        let secrets = root.appendingPathComponent(".data/secrets")
        try files.createDirectory(at: release, withIntermediateDirectories: true)
        try files.createDirectory(at: secrets, withIntermediateDirectories: true)
        try files.createSymbolicLink(
            at: release.appendingPathComponent("orderly"), withDestinationURL: SystemUnderTest.binDirectory.appendingPathComponent("orderly"))
        try files.createSymbolicLink(at: root.appendingPathComponent(".data/mail"), withDestinationURL: mail)
        try Data(apiKey.utf8).write(to: secrets.appendingPathComponent("api-key"))
        let lines = operatorEnvironment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)\n" }
        try Data(lines.joined().utf8).write(to: secrets.appendingPathComponent("operator.env"))
        return root
    }

    /// Runs every block in order in `checkout`, as one terminal would, with `addresses` (`ORDERS`,
    /// `STOCK`, `GATEWAY`: host and port) set; records an issue at the first block that fails or does
    /// not show what its marker says, and stops there.
    static func run(_ blocks: [Block], in checkout: URL, addresses: [String: String]) async {
        var environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": checkout.path, "LANG": "C.UTF-8",
        ]
        for (name, url) in addresses { environment[name] = url.replacingOccurrences(of: "http://", with: "") }
        for block in blocks {
            let deadline = ContinuousClock.now + .seconds(60)
            while true {
                let run: Run
                do {
                    run = try await Walkthrough.run(block.script, in: checkout, environment: environment)
                } catch {
                    Issue.record("README line \(block.line): \(error)")
                    return
                }
                let shown = block.expectation.map { run.output.contains($0.text) } ?? true
                if run.status == 0, shown {
                    environment = run.environment
                    break
                }
                if case .waitFor = block.expectation?.kind, run.status == 0, ContinuousClock.now < deadline {
                    try? await Task.sleep(for: .milliseconds(500))
                    continue
                }
                Issue.record(
                    """
                    README line \(block.line): exit status \(run.status), expected \(block.expectation.map { "'\($0.text)'" } ?? "nothing") in the output
                    \(block.script)
                    --- output ---
                    \(run.output)
                    --- errors ---
                    \(run.errors)
                    """)
                return
            }
        }
    }

    struct Run {
        var status: Int32
        var output: String
        var errors: String
        /// The shell's variables when the block ended (every assignment is exported).
        var environment: [String: String]
    }

    /// Runs `script` verbatim with bash in `directory`, after a prologue that exports every variable it
    /// sets, stops at the first command that fails (`set -eo pipefail`), and saves the variables for the next block.
    static func run(_ script: String, in directory: URL, environment: [String: String]) async throws -> Run {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("walkthrough-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let state = scratch.appendingPathComponent("state")
        let output = scratch.appendingPathComponent("output")
        let errors = scratch.appendingPathComponent("errors")
        for file in [output, errors] { _ = FileManager.default.createFile(atPath: file.path, contents: nil) }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", "set -a\nset -eo pipefail\ntrap 'env -0 > \"$WALKTHROUGH_STATE\"' EXIT\n" + script]
        process.currentDirectoryURL = directory
        process.environment = environment.merging(["WALKTHROUGH_STATE": state.path]) { _, new in new }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: errors)
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        var after: [String: String] = [:]
        for entry in (try? Data(contentsOf: state)).map({ String(decoding: $0, as: UTF8.self) })?.split(separator: "\0") ?? [] {
            guard let equals = entry.firstIndex(of: "=") else { continue }
            let name = String(entry[..<equals])
            if !["_", "SHLVL", "PWD", "OLDPWD", "WALKTHROUGH_STATE"].contains(name) { after[name] = String(entry[entry.index(after: equals)...]) }
        }
        return Run(
            status: status, output: String(decoding: try Data(contentsOf: output), as: UTF8.self),
            errors: String(decoding: try Data(contentsOf: errors), as: UTF8.self), environment: after)
    }
}
