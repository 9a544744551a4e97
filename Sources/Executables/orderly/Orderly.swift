import AMQP
import ArgumentParser
import Foundation

/// The operator's command line: provisioning, topology, stock, orders, ingress events, parked messages and benchmarks.
@main
struct Orderly: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orderly",
        abstract: "Operate an Orderly installation.",
        discussion: """
            Run from the repository after ./infra/dev up, the commands log in as the operator \
            (.data/secrets/operator.env) unless ORDERLY_AMQP_URL, ORDERLY_DATABASE_URL or an option says otherwise. \
            Read commands print JSON with --json. \(ExitStatus.table)
            """,
        subcommands: [
            SystemCommand.self, TopologyCommand.self, StockCommand.self, OrdersCommand.self, PublishCommand.self, DLQCommand.self,
            DeadLettersAlias.self,
            ChaosCommand.self, Bench.self,
        ]
    )

    /// Parses and runs a command; whatever stops it ends as one line on standard error and an exit
    /// status of ``ExitStatus``, never a backtrace. Help and usage errors are ArgumentParser's (64 for usage).
    static func main() async {
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ExitCode {
            exit(withError: error)
        } catch let error as CleanExit {
            exit(withError: error)
        } catch let error as ValidationError {
            fail(Failure(.usage, error.message))
        } catch  where exitCode(for: error) == .success {
            // `orderly help …` runs ArgumentParser's help command, which ends with an error of its own that
            // ArgumentParser counts as a success: it prints the help.
            exit(withError: error)
        } catch {
            fail(Failure(error))
        }
    }

    private static func fail(_ failure: Failure) -> Never {
        FileHandle.standardError.write(Data("orderly: error: \(failure.message)\n".utf8))
        Foundation.exit(failure.status.rawValue)
    }
}

/// Where the broker and the database are, shared by every subcommand.
struct ConnectionOptions: ParsableArguments {
    // The defaults hold the operator's password, so help names where they come from instead of showing them.
    @Option(
        name: .customLong("amqp-url"),
        help:
            "The broker, as an amqp:// URL; a cluster as amqp://USER:PASSWORD@HOST1:PORT1,HOST2:PORT2/ (default: $ORDERLY_AMQP_URL, else the operator's login from ./infra/dev up)."
    )
    var givenAMQPURL: String?

    @Option(
        name: .customLong("database-url"),
        help: "The database, as a postgresql:// URL (default: $ORDERLY_DATABASE_URL, else the operator's login from ./infra/dev up).")
    var givenDatabaseURL: String?

    /// A list of hosts (a cluster) as one host and a failover list, which provisioning can rewrite.
    var amqpURL: String {
        AMQPConfiguration.singleHostURL(givenAMQPURL ?? Environment.value("ORDERLY_AMQP_URL") ?? "amqp://guest:guest@127.0.0.1:5672/")
    }
    var databaseURL: String {
        givenDatabaseURL ?? Environment.value("ORDERLY_DATABASE_URL") ?? "postgresql://orderly:orderly@127.0.0.1:5432/orderly"
    }
}

/// Settings from the environment, else from the operator's file that `./infra/dev up` writes
/// (`$ORDERLY_DATA_DIR/secrets/operator.env`, by default `.data/secrets/operator.env` under the
/// current folder), so that the CLI run from the repository finds the local installation's
/// broker and database, and logs in as the operator, without a variable set by hand.
enum Environment {
    static func value(_ name: String) -> String? {
        if let value = getenv(name) { return String(cString: value) }
        return operatorFile[name]
    }

    /// The `NAME=value` lines of the operator's file; empty when there is none.
    static let operatorFile: [String: String] = {
        let data = getenv("ORDERLY_DATA_DIR").map { String(cString: $0) } ?? ".data"
        guard let text = try? String(contentsOfFile: data + "/secrets/operator.env", encoding: .utf8) else { return [:] }
        var values: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return values
    }()
}
