import Contracts
import Foundation
import Provisioning
import Supervision

#if canImport(Glibc)
    import Glibc
#endif

/// The services of the installation `./infra/dev` runs in a data folder, each instance under a
/// supervisor of its own (``Supervisor``), started, stopped and reported on by name.
///
/// What each instance leaves in `services/` under the data folder:
/// - `INSTANCE.log`: its output, with its supervisor's lines among it
/// - `INSTANCE.pid`: its process, rewritten at each restart (what `kill -9` aims at)
/// - `INSTANCE.supervisor.pid`: its supervisor (what a stop signals)
/// - `INSTANCE.state`: what the supervisor last did (``SupervisorState``)
/// - `INSTANCE.port`: the port it was started on
///
/// and `replicas`, the instances per service the last start of every service was asked for.
package struct LocalServices: Sendable {
    package var layout: LocalLayout
    package var dataDirectory: URL
    /// Where the release build's executables are: the services and `orderly-supervise`.
    package var binDirectory: URL
    /// How long a start waits for `/health/ready`.
    package var readyTimeout: Duration
    package var console = Console()

    package var directory: URL { dataDirectory.appendingPathComponent("services") }
    package var secrets: SecretStore { SecretStore(directory: dataDirectory.appendingPathComponent("secrets")) }

    /// The installation in `dataDirectory`: with `replicas` (else as many as the last start of every service
    /// was asked for, else 1), and with `httpPortBase` (else the base the running services were started with,
    /// else the catalog's), so that a service that runs or crashed is found where it listens.
    package init(
        dataDirectory: URL, binDirectory: URL, amqpPorts: [Int], databasePort: Int, httpPortBase: Int?, replicas: Int?,
        readyTimeout: Duration = .seconds(120)
    ) {
        self.dataDirectory = dataDirectory
        self.binDirectory = binDirectory
        self.readyTimeout = readyTimeout
        layout = LocalLayout(amqpPorts: amqpPorts, databasePort: databasePort)
        let directory = dataDirectory.appendingPathComponent("services")
        layout.replicas = replicas ?? LocalMachine.number(in: directory.appendingPathComponent("replicas")) ?? 1
        layout.httpPortBase =
            httpPortBase
            ?? SystemCatalog.all.lazy.compactMap { service in
                let first = ServiceInstance(service.name)
                return LocalMachine.number(in: directory.appendingPathComponent("\(first).port")).flatMap {
                    LocalLayout.httpPortBase(of: first, listeningOn: $0)
                }
            }.first ?? SystemCatalog.order.httpPort
    }

    // MARK: What runs

    private func file(_ instance: ServiceInstance, _ suffix: String) -> URL { directory.appendingPathComponent("\(instance).\(suffix)") }

    /// Its supervisor's pid, while that runs.
    package func supervisorPID(_ instance: ServiceInstance) -> pid_t? {
        guard let pid = LocalMachine.number(in: file(instance, "supervisor.pid")).map(pid_t.init), ChildProcess.isAlive(pid),
            ChildProcess.commandLine(of: pid).contains("orderly-supervise \(instance) ")
        else { return nil }
        return pid
    }

    /// The service process's pid, while it runs.
    package func servicePID(_ instance: ServiceInstance) -> pid_t? {
        guard let pid = LocalMachine.number(in: file(instance, "pid")).map(pid_t.init), ChildProcess.isAlive(pid),
            ChildProcess.commandLine(of: pid).contains(instance.service)
        else { return nil }
        return pid
    }

    /// Whether it runs: its supervisor does (even between two restarts), or its process does without one.
    package func isRunning(_ instance: ServiceInstance) -> Bool { supervisorPID(instance) != nil || servicePID(instance) != nil }

    package func state(_ instance: ServiceInstance) -> SupervisorState? {
        (try? String(contentsOf: file(instance, "state"), encoding: .utf8)).flatMap(SupervisorState.init(text:))
    }

    /// Where it listens: the port it was started on until it is stopped, else the layout's.
    package func port(of instance: ServiceInstance) -> Int { LocalMachine.number(in: file(instance, "port")) ?? layout.port(of: instance) }

    /// The instances there are: those of the layout, and any other that left files behind (it runs, or
    /// crashed) from a start with more replicas.
    package var knownInstances: [ServiceInstance] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        let left = names.filter { !$0.hasSuffix(".log") }.compactMap { ServiceInstance(name: String($0.prefix { $0 != "." })) }
        return Set(layout.instances + left).sorted()
    }

    /// The instances a name stands for: the one named, or every one of a service there is.
    package func instances(named name: String) throws -> [ServiceInstance] {
        guard let instance = ServiceInstance(name: name) else {
            throw LocalRunError(
                "unknown name '\(name)': expected one of \(SystemCatalog.all.map(\.name).joined(separator: ", ")) or an instance (order-service#2)")
        }
        return name.contains("#") ? [instance] : knownInstances.filter { $0.service == instance.service }
    }

    // MARK: Starting

    /// Starts every instance of the layout that does not run, in start order, after stopping those beyond
    /// its replicas (an earlier start with more), and remembers the replicas.
    package func startAll() async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data("\(layout.replicas)\n".utf8).write(to: directory.appendingPathComponent("replicas"))
        for instance in knownInstances.reversed() where !layout.instances.contains(instance) { await stop(instance) }
        guard layout.instances.contains(where: { !isRunning($0) }) else { return console.note("every service is already running") }
        for instance in layout.instances { try await start(instance) }
    }

    /// Starts one instance under its supervisor, unless it runs, and waits until it is ready.
    ///
    /// A crash on the way is the supervisor's to handle: it is reported, and the start fails only if
    /// the supervisor gives up or the instance is not ready within ``readyTimeout``.
    package func start(_ instance: ServiceInstance) async throws {
        if let supervisor = supervisorPID(instance) {
            if let state = state(instance), state.phase == .restarting {
                return console.note("\(instance) is restarting (it exited with \(state.lastExit?.description ?? "?"); supervisor \(supervisor))")
            }
            return console.note("\(instance) is already running (pid \(servicePID(instance).map { "\($0)" } ?? "?"), supervisor \(supervisor))")
        }
        if let pid = servicePID(instance) {
            return console.note("\(instance) is already running (pid \(pid), without a supervisor; ./infra/dev restart \(instance) gives it one)")
        }
        if let state = state(instance), state.phase == .gaveUp {
            console.note("\(instance) had crashed: its supervisor \(state.gaveUpSummary); starting it afresh")
        }
        guard let service = SystemCatalog.service(named: instance.service) else { return }
        removeFiles(instance)
        let port = layout.port(of: instance)
        if LocalMachine.isListening(port) {
            throw LocalRunError(
                "port \(port) (needed for \(instance)) is taken by something that is not ours; stop it, or move the services with ORDERLY_HTTP_PORT_BASE"
            )
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        console.info("starting \(instance) (http://127.0.0.1:\(port))")

        let log = file(instance, "log")
        try Data("\n=== orderly system start \(Date().ISO8601Format()) ===\n".utf8).append(to: log.path)
        let environment = try self.environment(of: instance, service: service, port: port)
        let supervisor = try ChildProcess.spawn(
            [
                binDirectory.appendingPathComponent("orderly-supervise").path, "\(instance)", directory.path, "--",
                binDirectory.appendingPathComponent(service.name).path,
            ],
            environment: environment, output: log.path, newSession: true)
        try Data("\(supervisor)\n".utf8).write(to: file(instance, "supervisor.pid"))
        try Data("\(port)\n".utf8).write(to: file(instance, "port"))

        let deadline = ContinuousClock.now + readyTimeout
        var reported = 0
        while await !HealthCheck.isReady(port: port) {
            let state = state(instance)
            guard ChildProcess.isAlive(supervisor) else {
                let reason =
                    state?.phase == .gaveUp
                    ? "keeps crashing during start: its supervisor \(state!.gaveUpSummary)" : "lost its supervisor during start"
                throw LocalRunError("\(instance) \(reason)\n\(LocalMachine.tail([log]))\n(log: \(log.path))")
            }
            if let state, state.phase == .restarting, state.restarts + 1 > reported {
                reported = state.restarts + 1
                console.note(
                    "\(instance) exited during start with \(state.lastExit?.description ?? "?"); restart \(reported) in \(state.nextStartIn)")
            }
            guard ContinuousClock.now < deadline else {
                throw LocalRunError(
                    "\(instance) is not ready on http://127.0.0.1:\(port)/health/ready after \(readyTimeout) (its supervisor keeps trying; "
                        + "./infra/dev stop \(instance) stops it)\n\(LocalMachine.tail([log]))")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        console.note("\(instance) ready (pid \(servicePID(instance).map { "\($0)" } ?? "?"), supervisor \(supervisor))")
    }

    /// What an instance starts with: this process's environment and the catalog's variables for it
    /// (``ServiceEnvironment``), its home node first on a cluster.
    private func environment(of instance: ServiceInstance, service: ServiceDescriptor, port: Int) throws -> [String: String] {
        let secrets = self.secrets
        let variables = try ServiceEnvironment(
            amqpURL: layout.amqpURL(firstNode: layout.homeNode(of: instance)), databaseURL: layout.databaseURL,
            ports: layout.servicePorts, mailDirectory: dataDirectory.appendingPathComponent("mail").path,
            apiKey: try secrets.existingSecret(SecretStore.apiKeyName), adminKey: try secrets.existingSecret(SecretStore.adminKeyName),
            secrets: secrets
        ).variables(of: service, port: port)
        return ProcessInfo.processInfo.environment.merging(variables.map { ($0.name, $0.value) }) { $1 }
    }

    // MARK: Stopping

    /// Stops every instance there is, the last started first.
    package func stopAll() async {
        for instance in knownInstances.reversed() { await stop(instance) }
    }

    /// Stops one instance: its supervisor hands `SIGTERM` on and waits for the service to drain
    /// (`ORDERLY_STOP_TIMEOUT`, 20 s, then `SIGKILL`); a supervisor that does not exit in time is killed
    /// with its whole process group, and a service left without a supervisor is stopped itself.
    package func stop(_ instance: ServiceInstance) async {
        var pid = servicePID(instance)
        if let supervisor = supervisorPID(instance) {
            console.info("stopping \(instance) (pid \(pid.map { "\($0)" } ?? "none between two restarts"), supervisor \(supervisor))")
            let grace = (try? RestartPolicy(environment: ProcessInfo.processInfo.environment))?.stopTimeout ?? .seconds(20)
            kill(supervisor, SIGTERM)
            if await !LocalMachine.wait(for: grace + .seconds(10), until: { !ChildProcess.isAlive(supervisor) }) {
                console.warn("the supervisor of \(instance) did not exit; killing it and \(instance)")
                // A supervisor leads the process group its service is in.
                kill(-supervisor, SIGKILL)
                kill(supervisor, SIGKILL)
            }
            pid = servicePID(instance)
        } else if let pid {
            console.info("stopping \(instance) (pid \(pid), without a supervisor)")
        }
        if let pid {
            kill(pid, SIGTERM)
            if await !LocalMachine.wait(for: .seconds(20), until: { !ChildProcess.isAlive(pid) }) {
                console.warn("\(instance) did not stop within 20s; killing it")
                kill(pid, SIGKILL)
            }
        }
        removeFiles(instance)
    }

    private func removeFiles(_ instance: ServiceInstance) {
        for suffix in ["pid", "supervisor.pid", "state", "port"] { try? FileManager.default.removeItem(at: file(instance, suffix)) }
    }

    // MARK: Status

    /// One line for each instance there is: its name, what it does, its URL and the detail.
    package func statusLines(nameWidth: Int) async -> [String] {
        var lines: [String] = []
        for instance in knownInstances {
            let (phase, detail) = await status(of: instance)
            var line = console.statusLine(instance.description, phase, "http://127.0.0.1:\(port(of: instance))", detail, width: nameWidth)
            if phase == "crashed", let tail = try? String(contentsOf: file(instance, "log"), encoding: .utf8) {
                line += "\n" + tail.split(separator: "\n").suffix(10).map { "      | \($0)" }.joined(separator: "\n")
            }
            lines.append(line)
        }
        return lines
    }

    private func status(of instance: ServiceInstance) async -> (String, String) {
        let supervisor = supervisorPID(instance)
        let pid = servicePID(instance)
        let state = state(instance)
        let exit = state?.lastExit?.description ?? "?"
        if let supervisor, let state, state.phase == .restarting {
            return (
                "restarting",
                "exited with \(exit) at \(state.lastExitAt); restart \(state.restarts + 1) in \(state.nextStartIn), supervisor \(supervisor)"
            )
        }
        if let pid {
            let detail =
                supervisor.map { "pid \(pid), \(SupervisorState.restartsText(state?.restarts ?? 0)), supervisor \($0)" }
                ?? "pid \(pid), without a supervisor"
            return await HealthCheck.isReady(port: port(of: instance)) ? ("running", detail) : ("starting", detail + ", not ready")
        }
        if let supervisor { return ("starting", "supervisor \(supervisor)") }
        switch state?.phase {
        case .gaveUp?: return ("crashed", state!.gaveUpSummary)
        case .running?, .restarting?: return ("stopped", "its supervisor is gone; last exit \(state?.lastExit?.description ?? "none")")
        default: return ("stopped", "")
        }
    }
}
