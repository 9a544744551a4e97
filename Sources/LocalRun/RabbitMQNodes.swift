import Foundation
import Supervision

#if canImport(Glibc)
    import Glibc
#endif

/// RabbitMQ as `./infra/dev` runs it under the data folder: one node, or a cluster of several.
///
/// Node 1 is the node a single-node installation runs (its folder `rabbitmq`, its name, its ports), so
/// that `up --rabbit-nodes 3` turns a running installation into a cluster: node K (from 2) lives in
/// `rabbitmq-K`, is called `<node 1's name>-K`, and listens on the AMQP port and the distribution port
/// of node 1 plus K-1. Every node shares node 1's Erlang cookie; nodes 2 and up join node 1's cluster
/// once, when they first boot, and find it by themselves afterwards. A cluster does not shrink.
package struct RabbitMQNodes: Sendable {
    package var dataDirectory: URL
    /// Node 1's ports; node K's are K-1 above.
    package var amqpPort: Int
    package var distributionPort: Int
    package var count: Int
    package var readyTimeout: Duration
    package var console = Console()

    package init(dataDirectory: URL, amqpPort: Int, distributionPort: Int? = nil, count: Int, readyTimeout: Duration) {
        self.dataDirectory = dataDirectory
        self.amqpPort = amqpPort
        self.distributionPort = distributionPort ?? amqpPort + 20000
        self.count = count
        self.readyTimeout = readyTimeout
    }

    /// One node of the installation.
    package struct Node: Sendable, Hashable {
        /// From 1.
        package var index: Int
        /// Its Erlang name: `orderly@localhost`, `orderly-2@localhost`; `orderly-5800@localhost` for
        /// node 1 on another port than 5672, so that a second checkout does not collide with ours in epmd.
        package var name: String
        /// How status and errors call it: `rabbitmq` alone, `rabbitmq-K` in a cluster.
        package var label: String
        package var directory: URL
        package var amqpPort: Int
        package var distributionPort: Int

        var pidFile: URL { directory.appendingPathComponent("rabbitmq.pid") }
        var configFile: URL { directory.appendingPathComponent("etc/rabbitmq.conf") }
        package var logs: [URL] { [directory.appendingPathComponent("log/\(name).log"), directory.appendingPathComponent("log/stdout.log")] }
    }

    package func node(_ index: Int) -> Node {
        let base = amqpPort == 5672 ? "orderly" : "orderly-\(amqpPort)"
        return Node(
            index: index, name: index == 1 ? "\(base)@localhost" : "\(base)-\(index)@localhost",
            label: count == 1 && index == 1 ? "rabbitmq" : "rabbitmq-\(index)",
            directory: dataDirectory.appendingPathComponent(index == 1 ? "rabbitmq" : "rabbitmq-\(index)"),
            amqpPort: amqpPort + index - 1, distributionPort: distributionPort + index - 1)
    }

    package var nodes: [Node] { (1...count).map(node) }

    /// The node `rabbitmq-K` or an Erlang name stands for; nil for any other name.
    package func node(named name: String) -> Node? { nodes.first { name == "rabbitmq-\($0.index)" || name == $0.name } }

    // MARK: What runs

    /// The node's pid while it runs: a pid file can outlive its node (kill -9, reboot), so only a live beam counts.
    package func pid(of node: Node) -> pid_t? {
        guard let pid = LocalMachine.number(in: node.pidFile).map(pid_t.init), ChildProcess.isAlive(pid),
            ChildProcess.commandLine(of: pid).contains("beam")
        else { return nil }
        return pid
    }

    /// The first node that runs, or node 1: users, permissions and definitions are the cluster's, so any
    /// running node can take them, and an installation is still provisioned while node 1 is away.
    package var runningNode: Node { nodes.first { pid(of: $0) != nil } ?? node(1) }

    package var isRunning: Bool { pid(of: runningNode) != nil }

    /// The AMQP port a node was last started on, from its configuration.
    static func configuredPort(of node: Node) -> Int? {
        guard let text = try? String(contentsOf: node.configFile, encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("listeners.tcp.default = ") })
        else { return nil }
        return line.split(separator: ":").last.flatMap { Int($0) }
    }

    /// The AMQP port node 1 of the installation in `dataDirectory` runs on; nil when it does not run.
    package static func runningPort(in dataDirectory: URL) -> Int? {
        let nodes = RabbitMQNodes(dataDirectory: dataDirectory, amqpPort: 5672, count: 1, readyTimeout: .zero)
        return nodes.pid(of: nodes.node(1)) == nil ? nil : configuredPort(of: nodes.node(1))
    }

    /// The size of the cluster the data folder holds, as the start that made it recorded; 1 without one.
    package static func recordedCount(in dataDirectory: URL) -> Int {
        LocalMachine.number(in: dataDirectory.appendingPathComponent("rabbitmq/cluster-size")) ?? 1
    }

    // MARK: The tools

    /// The environment the server and its tools need to find node K, its files and its cookie.
    func environment(of node: Node) -> [String] {
        let directory = node.directory.path
        return [
            "HOME=\(directory)/home", "LANG=C.UTF-8", "LC_ALL=C.UTF-8", "RABBITMQ_NODENAME=\(node.name)", "RABBITMQ_USE_LONGNAME=false",
            "RABBITMQ_MNESIA_BASE=\(directory)/mnesia", "RABBITMQ_LOG_BASE=\(directory)/log",
            "RABBITMQ_CONFIG_FILE=\(directory)/etc/rabbitmq.conf", "RABBITMQ_ADVANCED_CONFIG_FILE=\(directory)/etc/advanced.config",
            "RABBITMQ_CONF_ENV_FILE=\(directory)/etc/rabbitmq-env.conf", "RABBITMQ_ENABLED_PLUGINS_FILE=\(directory)/etc/enabled_plugins",
            "RABBITMQ_PID_FILE=\(directory)/rabbitmq.pid", "RABBITMQ_DIST_PORT=\(node.distributionPort)",
            // epmd is started by the first node; keep it and the tools' own node on loopback.
            "ERL_EPMD_ADDRESS=127.0.0.1", "RABBITMQ_CTL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}",
        ]
    }

    /// A tool's path: the package's own, as the `/usr/sbin` wrappers `su` to rabbitmq and drop our environment.
    static func tool(_ name: String) -> String {
        let own = "/usr/lib/rabbitmq/bin/\(name)"
        return FileManager.default.isExecutableFile(atPath: own) ? own : name
    }

    /// `TOOL -n NODE ARGUMENTS` against `node`, as its user, from its folder.
    func command(_ tool: String, on node: Node, _ arguments: [String]) -> [String] {
        LocalMachine.asUser("rabbitmq", ["env"] + environment(of: node) + [Self.tool(tool), "-n", node.name] + arguments)
    }

    /// Runs `rabbitmqctl` (or another tool) against `node`; how it ended and what it wrote.
    @discardableResult
    func control(_ arguments: String..., tool: String = "rabbitmqctl", on node: Node, timeout: Duration? = nil) async -> (
        status: ExitStatus, output: String
    ) {
        await LocalMachine.capture(command(tool, on: node, arguments), directory: node.directory.path, timeout: timeout)
    }

    /// `rabbitmqctl ARGUMENTS` against the first node that runs, in place of this process: its input,
    /// output and exit status are the caller's.
    package func execControl(_ arguments: [String]) -> Never {
        let node = runningNode
        _ = FileManager.default.changeCurrentDirectoryPath(node.directory.path)
        let words = command("rabbitmqctl", on: node, arguments)
        let argv = words.map { strdup($0) } + [nil]
        execvp(words[0], argv)
        FileHandle.standardError.write(Data("cannot run \(words[0]): \(String(cString: strerror(errno)))\n".utf8))
        exit(127)
    }

    // MARK: Starting

    /// Starts the nodes given that do not run, all at once (a cluster node that was not the last to stop
    /// waits for its peers at boot), waits until they have booted, and joins new ones to the cluster.
    package func start(_ indices: [Int]? = nil) async throws {
        let started = ContinuousClock.now
        // Every node's folder, so that they all get the cookie, whichever starts first.
        for node in nodes where pid(of: node) == nil { try await prepare(node) }
        try await shareCookie()
        var launched: [(Node, pid_t)] = []
        for node in (indices ?? Array(1...count)).map(node) {
            if let pid = pid(of: node) {
                if let configured = Self.configuredPort(of: node), configured != node.amqpPort {
                    throw LocalRunError("this checkout's \(node.label) already runs on port \(configured), not \(node.amqpPort); stop it first")
                }
                console.note("\(node.label) is already running (pid \(pid))")
                continue
            }
            launched.append((node, try launch(node)))
        }
        guard !launched.isEmpty else { return }
        for (node, launcher) in launched { try await awaitBoot(node, launcher: launcher) }
        for (node, _) in launched { try await join(node) }
        // Quorum queues with at-least-once dead-lettering need every feature flag; a node whose data
        // predates a package upgrade has some disabled. The flags are the cluster's.
        await control("-q", "enable_feature_flag", "all", on: runningNode)
        if count > 1 { try Data("\(count)\n".utf8).write(to: node(1).directory.appendingPathComponent("cluster-size")) }
        for (node, _) in launched { console.note("\(node.label) ready (pid \(pid(of: node).map { "\($0)" } ?? "?"))") }
        console.note("rabbitmq ready in \(LocalMachine.elapsed(since: started))")
    }

    private func prepare(_ node: Node) async throws {
        try LocalMachine.makeTraversable(dataDirectory, console: console)
        try await LocalMachine.ownedDirectory(node.directory, user: "rabbitmq")
        for folder in ["home", "mnesia", "log", "etc"] {
            try await LocalMachine.ownedDirectory(node.directory.appendingPathComponent(folder), user: "rabbitmq")
        }
        // Only the node's user may read the cookie; the tools run as that user too.
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: node.directory.appendingPathComponent("home").path)
        let config = """
            # Written by orderly system start (infra/dev): edit Sources/LocalRun/RabbitMQNodes.swift, not this file.
            listeners.tcp.default = 127.0.0.1:\(node.amqpPort)
            distribution.listener.interface = 127.0.0.1
            distribution.listener.port_range.min = \(node.distributionPort)
            distribution.listener.port_range.max = \(node.distributionPort)
            # 'orderly system provision' deletes guest; until it has run, guest may log in only over loopback.
            loopback_users.guest = true
            # Dead peers must be noticed quickly: fault tests kill processes.
            heartbeat = 10
            # Block publishers well before the disk is full, but do not trip on a small dev disk.
            disk_free_limit.absolute = 256MB
            log.file.level = info
            log.console = false

            """
        let etc = node.directory.appendingPathComponent("etc")
        try LocalMachine.write(config, to: node.configFile)
        try LocalMachine.write("[].\n", to: etc.appendingPathComponent("enabled_plugins"))
        // Present and empty, so that a machine-wide /etc/rabbitmq/rabbitmq-env.conf is not read.
        try LocalMachine.write("", to: etc.appendingPathComponent("rabbitmq-env.conf"))
    }

    /// Every node of a cluster must hold the same Erlang cookie before it boots: node 1's, made here when
    /// node 1 has never booted (a single node makes its own on first boot).
    private func shareCookie() async throws {
        guard count > 1 else { return }
        let cookie = node(1).directory.appendingPathComponent("home/.erlang.cookie")
        if (try? Data(contentsOf: cookie))?.isEmpty ?? true {
            let letters = String((0..<20).map { _ in "ABCDEFGHIJKLMNOPQRSTUVWXYZ".randomElement()! })
            try Data(letters.utf8).write(to: cookie)
        }
        let value = try Data(contentsOf: cookie)
        for node in nodes {
            let target = node.directory.appendingPathComponent("home/.erlang.cookie")
            if node.index > 1, (try? Data(contentsOf: target)) != value {
                // A node that booted with a cookie of its own cannot talk to the others; it starts afresh with this one.
                try? FileManager.default.removeItem(at: target)
                try value.write(to: target)
            }
            try FileManager.default.setAttributes([.posixPermissions: 0o400], ofItemAtPath: target.path)
            if LocalMachine.isRoot { try FileManager.default.setAttributes([.ownerAccountName: "rabbitmq"], ofItemAtPath: target.path) }
        }
    }

    /// Starts node K in the background, leading a session of its own so that it outlives this process;
    /// answers the launcher's pid.
    private func launch(_ node: Node) throws -> pid_t {
        try LocalMachine.requireFree(node.amqpPort, for: "RabbitMQ AMQP of \(node.label)")
        try LocalMachine.requireFree(node.distributionPort, for: "RabbitMQ distribution of \(node.label)")
        try? FileManager.default.removeItem(at: node.pidFile)
        console.info("starting \(node.label) (\(node.name) on 127.0.0.1:\(node.amqpPort))")
        let output = node.directory.appendingPathComponent("log/stdout.log").path
        try Data("\n=== orderly system start \(Date().ISO8601Format()) ===\n".utf8).append(to: output)
        // Each client connection is a file descriptor: the soft limit (runuser leaves it at 1024) is raised to
        // the hard one, or a test pass with many systems side by side runs the node out of them.
        let server = ["sh", "-c", "ulimit -n \"$(ulimit -Hn)\"; exec \"$0\"", Self.tool("rabbitmq-server")]
        return try ChildProcess.spawn(
            LocalMachine.asUser("rabbitmq", ["env"] + environment(of: node) + server), output: output, directory: node.directory.path,
            newSession: true)
    }

    /// Waits until node K has booted; a node that does not is stopped, with its log shown.
    private func awaitBoot(_ node: Node, launcher: pid_t) async throws {
        // The listener opens late in the boot (a cluster node first waits for its peers); the pid file early.
        let deadline = ContinuousClock.now + readyTimeout
        while !(LocalMachine.isListening(node.amqpPort) && pid(of: node) != nil) {
            guard ChildProcess.isAlive(launcher) else {
                throw LocalRunError(
                    "\(node.label) exited during boot\n\(LocalMachine.tail(node.logs.reversed()))\n(full logs in \(node.directory.path)/log)")
            }
            guard ContinuousClock.now < deadline else {
                let logs = LocalMachine.tail(node.logs.reversed())
                await abandon(node, launcher: launcher)
                throw LocalRunError("\(node.label) did not open port \(node.amqpPort) within \(readyTimeout)\n\(logs)")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        // The port opens before the last boot steps finish; wait for the node itself.
        let timeout = "\(readyTimeout.components.seconds)"
        guard await control("-q", "await_startup", "--timeout", timeout, on: node).status == .exited(0) else {
            let logs = LocalMachine.tail(node.logs.reversed())
            await abandon(node, launcher: launcher)
            throw LocalRunError("\(node.label) did not finish booting\n\(logs)")
        }
    }

    /// A node that failed to come up in time is stopped, so that the next start begins afresh instead of
    /// finding a half-booted node and calling it running. The launcher leads its own process group, which
    /// holds the node until it has written its pid file.
    private func abandon(_ node: Node, launcher: pid_t) async {
        kill(-launcher, SIGKILL)
        _ = await LocalMachine.wait(for: .seconds(10)) { !ChildProcess.isAlive(launcher) }
        try? FileManager.default.removeItem(at: node.pidFile)
    }

    /// Node K, booted on its own, leaves its own empty cluster and joins node 1's: once, on its first boot.
    private func join(_ node: Node) async throws {
        let first = self.node(1)
        guard node.index > 1 else { return }
        let status = await control("-q", "cluster_status", "--formatter", "json", on: node)
        if status.status == .exited(0), status.output.contains("\"\(first.name)\"") { return }
        guard pid(of: first) != nil else {
            throw LocalRunError("\(node.label) has not joined the cluster yet, and node 1 (\(first.name)) does not run: start rabbitmq")
        }
        let started = ContinuousClock.now
        console.info("joining \(node.label) to \(first.name)")
        await control("-q", "stop_app", on: node)
        await control("-q", "reset", on: node)
        guard await control("-q", "join_cluster", first.name, on: node).status == .exited(0) else {
            throw LocalRunError("\(node.label) could not join \(first.name)")
        }
        await control("-q", "start_app", on: node)
        guard await control("-q", "await_startup", "--timeout", "\(readyTimeout.components.seconds)", on: node).status == .exited(0) else {
            throw LocalRunError("\(node.label) did not start after joining")
        }
        // Quorum queues that exist already (an installation that was one node) get a replica on it.
        if await control("-q", "grow", node.name, "all", tool: "rabbitmq-queues", on: node).status != .exited(0) {
            console.warn("could not add replicas of the existing quorum queues on \(node.name)")
        }
        console.note("\(node.label) joined in \(LocalMachine.elapsed(since: started))")
    }

    // MARK: Stopping

    /// Stops every node, node 1 last: the last node of a cluster to stop can boot first without waiting for its peers.
    package func stopAll() async throws {
        for node in nodes.reversed() { try await stop(node) }
    }

    /// Stops one node and waits until its port is closed.
    package func stop(_ node: Node) async throws {
        guard let pid = pid(of: node) else { return console.note("\(node.label) is not running") }
        console.info("stopping \(node.label) (pid \(pid))")
        let started = ContinuousClock.now
        // SIGTERM is a clean shutdown (init:stop) without booting an Erlang tool node. A node that has it
        // blocked is asked over distribution instead.
        kill(pid, SIGTERM)
        if await !LocalMachine.wait(for: .seconds(10), until: { !ChildProcess.isAlive(pid) }) {
            console.note("\(node.label) ignores SIGTERM; asking it with rabbitmqctl shutdown")
            // Bounded: a wedged node can keep the tool waiting for ever, and then it is killed below.
            await control("-q", "--timeout", "30", "shutdown", on: node, timeout: .seconds(35))
        }
        if await !LocalMachine.wait(for: .seconds(50), until: { !ChildProcess.isAlive(pid) }) {
            console.warn("\(node.label) did not stop within 60s; killing it")
            let group = getpgid(pid)
            if group > 0, group != getpgrp() { kill(-group, SIGKILL) }
            kill(pid, SIGKILL)
            guard await LocalMachine.wait(for: .seconds(10), until: { !ChildProcess.isAlive(pid) }) else {
                throw LocalRunError("cannot kill \(node.label) (pid \(pid))")
            }
        }
        guard await LocalMachine.wait(for: .seconds(10), until: { !LocalMachine.isListening(node.amqpPort) }) else {
            throw LocalRunError("\(node.label) exited but port \(node.amqpPort) is still open")
        }
        try? FileManager.default.removeItem(at: node.pidFile)
        console.note("\(node.label) stopped in \(LocalMachine.elapsed(since: started))")
    }

    // MARK: Status

    /// One line for each node: its label, whether it runs, where, its pid and name.
    package func statusLines(operator user: String, nameWidth: Int) -> [String] {
        nodes.map { node in
            let url = "amqp://\(user)@127.0.0.1:\(node.amqpPort)/"
            if let pid = pid(of: node) { return console.statusLine(node.label, "running", url, "pid \(pid), node \(node.name)", width: nameWidth) }
            return console.statusLine(node.label, "stopped", url, count > 1 ? "node \(node.name)" : "", width: nameWidth)
        }
    }
}
