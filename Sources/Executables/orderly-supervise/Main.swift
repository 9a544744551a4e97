import Foundation
import Supervision

/// `orderly-supervise NAME DIR -- COMMAND [ARGS...]`: keeps COMMAND running as its ``RestartPolicy``
/// says (the `ORDERLY_RESTART_*` and `ORDERLY_STOP_TIMEOUT` variables), with `NAME.pid` and `NAME.state`
/// in DIR. `orderly system start` runs one for each service instance: a small executable of its own, so
/// that a supervisor starts at once and holds little memory for as long as its service runs.
///
/// Exits 0 when asked to stop (SIGTERM, SIGINT, SIGHUP), 1 when the policy gave up, 2 on a usage or
/// setting error, before anything is started.
@main
enum OrderlySupervise {
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard arguments.count >= 4, arguments[2] == "--" else { fail("usage: orderly-supervise NAME DIR -- COMMAND [ARGS...]") }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: arguments[1], isDirectory: &isFolder), isFolder.boolValue else {
            fail("no folder \(arguments[1])")
        }
        let policy: RestartPolicy
        do {
            policy = try RestartPolicy(environment: ProcessInfo.processInfo.environment)
        } catch {
            fail("\(error)")
        }
        let supervisor = Supervisor(
            name: arguments[0], directory: URL(fileURLWithPath: arguments[1]), command: Array(arguments.dropFirst(3)), policy: policy)
        exit(await supervisor.run())
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("supervise: \(message)\n".utf8))
        exit(2)
    }
}
