import Contracts
import Foundation
import Provisioning
import Supervision

#if canImport(Glibc)
    import Glibc
#endif

/// PostgreSQL as `./infra/dev` runs it: one cluster of its own under the data folder, on loopback,
/// with the operator's role and the installation's database in it.
package struct PostgresServer: Sendable {
    package var dataDirectory: URL
    package var port: Int
    package var readyTimeout: Duration
    /// Settings written into the cluster's configuration (`infra/postgres/tuning.conf`, shared with compose).
    package var tuning: URL?
    package var console = Console()

    package init(dataDirectory: URL, port: Int, readyTimeout: Duration, tuning: URL?) {
        self.dataDirectory = dataDirectory
        self.port = port
        self.readyTimeout = readyTimeout
        self.tuning = tuning
    }

    package var directory: URL { dataDirectory.appendingPathComponent("postgres") }
    var cluster: URL { directory.appendingPathComponent("data") }
    var socketDirectory: URL { directory.appendingPathComponent("run") }
    package var log: URL { directory.appendingPathComponent("log/postgres.log") }

    /// The newest PostgreSQL installed: `/usr/lib/postgresql/VERSION/bin`.
    package static var binDirectory: URL {
        get throws {
            let root = URL(fileURLWithPath: "/usr/lib/postgresql")
            let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).compactMap(Int.init).sorted()
            guard let newest = versions.last else {
                throw LocalRunError("no PostgreSQL under /usr/lib/postgresql; is the postgresql package installed?")
            }
            return root.appendingPathComponent("\(newest)/bin")
        }
    }

    private func tool(_ name: String) throws -> String { try Self.binDirectory.appendingPathComponent(name).path }

    // MARK: What runs

    /// The postmaster's pid while it runs (what `pg_ctl status` checks, minus its blind spot for a zombie).
    package var pid: pid_t? {
        guard let pid = LocalMachine.number(in: cluster.appendingPathComponent("postmaster.pid")).map(pid_t.init), ChildProcess.isAlive(pid),
            ChildProcess.commandLine(of: pid).contains("postgres")
        else { return nil }
        return pid
    }

    /// The port the running postmaster listens on; nil when it does not run.
    package static func runningPort(in dataDirectory: URL) -> Int? {
        let server = PostgresServer(dataDirectory: dataDirectory, port: 0, readyTimeout: .zero, tuning: nil)
        return server.pid == nil ? nil : LocalMachine.number(in: server.cluster.appendingPathComponent("postmaster.pid"), line: 3)
    }

    // MARK: Starting and stopping

    /// Starts the cluster (made first when there is none) unless it runs, and makes the operator's role and the
    /// database, with the operator's password from `secrets`.
    package func start(secrets: SecretStore) async throws {
        if let pid {
            if let running = Self.runningPort(in: dataDirectory), running != port {
                throw LocalRunError("this checkout's postgres already runs on port \(running), not \(port); stop it first")
            }
            console.note("postgres is already running (pid \(pid))")
            return try await ensureOperator(secrets: secrets)
        }
        try LocalMachine.requireFree(port, for: "PostgreSQL")
        try await prepare()
        console.info("starting postgres (127.0.0.1:\(port))")
        let started = ContinuousClock.now
        let ctl = try tool("pg_ctl")
        let arguments = [ctl, "start", "-D", cluster.path, "-l", log.path, "-w", "-t", "\(readyTimeout.components.seconds)"]
        let options = "-k \(socketDirectory.path) -h 127.0.0.1 -p \(port)"
        guard await LocalMachine.run(LocalMachine.asUser("postgres", arguments + ["-o", options]), directory: directory.path) == .exited(0) else {
            throw LocalRunError("postgres did not start (log: \(log.path))\n\(LocalMachine.tail([log]))")
        }
        let ready = try [tool("pg_isready"), "-q", "-h", "127.0.0.1", "-p", "\(port)", "-d", "postgres", "-U", "postgres"]
        guard await LocalMachine.wait(for: readyTimeout, until: { await LocalMachine.run(ready) == .exited(0) }) else {
            throw LocalRunError("postgres started but does not accept connections on 127.0.0.1:\(port)\n\(LocalMachine.tail([log]))")
        }
        try await ensureOperator(secrets: secrets)
        console.note("postgres ready in \(LocalMachine.elapsed(since: started)) (pid \(pid.map { "\($0)" } ?? "?"))")
    }

    /// Stops the cluster: `fast` (clients disconnected, a clean shutdown), `immediate` if that takes over a minute.
    package func stop() async throws {
        guard let pid else { return console.note("postgres is not running") }
        console.info("stopping postgres (pid \(pid))")
        let started = ContinuousClock.now
        let ctl = try tool("pg_ctl")
        let fast = LocalMachine.asUser("postgres", [ctl, "stop", "-D", cluster.path, "-m", "fast", "-w", "-t", "60"])
        if await LocalMachine.run(fast, directory: directory.path) != .exited(0) {
            console.warn("postgres did not stop within 60s; stopping it immediately")
            let immediate = LocalMachine.asUser("postgres", [ctl, "stop", "-D", cluster.path, "-m", "immediate", "-w", "-t", "30"])
            await LocalMachine.run(immediate, directory: directory.path)
        }
        guard await LocalMachine.wait(for: .seconds(10), until: { !LocalMachine.isListening(port) }) else {
            throw LocalRunError("postgres stopped but port \(port) is still open")
        }
        console.note("postgres stopped in \(LocalMachine.elapsed(since: started))")
    }

    private func prepare() async throws {
        try LocalMachine.makeTraversable(dataDirectory, console: console)
        try await LocalMachine.ownedDirectory(directory, user: "postgres")
        try await LocalMachine.ownedDirectory(socketDirectory, user: "postgres", mode: 0o755)
        try await LocalMachine.ownedDirectory(log.deletingLastPathComponent(), user: "postgres")
        let socket = socketDirectory.appendingPathComponent(".s.PGSQL.\(port)").path
        guard socket.utf8.count < 108 else {
            throw LocalRunError("the socket path \(socket) is too long for Unix sockets; use a shorter ORDERLY_DATA_DIR")
        }
        let version =
            await LocalMachine.capture([try tool("postgres"), "--version"]).output
            .split(separator: " ").last.flatMap { $0.split(separator: ".").first }.map(String.init) ?? "?"
        let versionFile = cluster.appendingPathComponent("PG_VERSION")
        if let have = try? String(contentsOf: versionFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) {
            guard have == version else {
                throw LocalRunError(
                    "the cluster in \(cluster.path) is PostgreSQL \(have) but the newest installed is \(version); remove \(directory.path) to start afresh"
                )
            }
        } else {
            console.info("creating the PostgreSQL \(version) cluster in \(cluster.path)")
            try await LocalMachine.ownedDirectory(cluster, user: "postgres", mode: 0o700)
            let initLog = directory.appendingPathComponent("log/initdb.log")
            let initdb = [
                try tool("initdb"), "-D", cluster.path, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256", "--encoding=UTF8",
                "--no-locale",
            ]
            guard await LocalMachine.run(LocalMachine.asUser("postgres", initdb), output: initLog.path, directory: directory.path) == .exited(0)
            else { throw LocalRunError("initdb failed\n\(LocalMachine.tail([initLog]))") }
            try Data("include_if_exists = 'orderly.conf'\n".utf8).append(to: cluster.appendingPathComponent("postgresql.conf").path)
        }
        // Listen address, port and socket come from the command line, so that they always match this installation.
        let tuning = tuning.flatMap { try? String(contentsOf: $0, encoding: .utf8) } ?? ""
        let settings = """
            # Written by orderly system start (infra/dev): edit Sources/LocalRun/PostgresServer.swift, not this file.
            max_connections = 300
            password_encryption = 'scram-sha-256'
            logging_collector = off
            log_line_prefix = '%m [%p] %q%u@%d '
            log_min_duration_statement = 1000
            log_lock_waits = on
            # Statement statistics (pg_stat_statements, from postgresql-contrib) for finding where the time goes.
            shared_preload_libraries = 'pg_stat_statements'
            pg_stat_statements.track = top

            \(tuning)
            """
        try LocalMachine.write(settings, to: cluster.appendingPathComponent("orderly.conf"), owner: "postgres")
    }

    /// The operator's role (the database's owner, which may create databases and roles) and the database,
    /// as the superuser over the local socket. The services' roles and schemas are `orderly system provision`'s.
    private func ensureOperator(secrets: SecretStore) async throws {
        let role = SystemCatalog.databaseOperator.name
        let password = try secrets.secret(SecretStore.databasePasswordName(role))
        let script = """
            SET client_min_messages TO warning;
            \\set password '\(password)'
            SELECT 'CREATE ROLE \(role) LOGIN CREATEDB CREATEROLE'
            WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '\(role)') \\gexec
            ALTER ROLE \(role) WITH LOGIN CREATEDB CREATEROLE PASSWORD :'password';
            SELECT 'CREATE DATABASE \(SystemCatalog.database) OWNER \(role)'
            WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '\(SystemCatalog.database)') \\gexec

            """
        // It holds the password: written inside the installation's folder (mode 0750), which others cannot enter, and
        // read on psql's standard input, which is opened before runuser becomes postgres.
        let file = directory.appendingPathComponent(".operator-\(UUID().uuidString).sql")
        try Data(script.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let psql = LocalMachine.asUser(
            "postgres",
            [try tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", socketDirectory.path, "-p", "\(port)", "-U", "postgres", "-d", "postgres"])
        let result = await LocalMachine.capture(psql, input: file.path, directory: directory.path)
        guard result.status == .exited(0) else { throw LocalRunError("cannot make the operator's role and database: \(result.output)") }
    }

    // MARK: Status

    package func statusLine(operator user: String, nameWidth: Int) -> String {
        let url = "postgresql://\(user)@127.0.0.1:\(port)/\(SystemCatalog.database)"
        if let pid { return console.statusLine("postgres", "running", url, "pid \(pid)", width: nameWidth) }
        return console.statusLine("postgres", "stopped", url, "", width: nameWidth)
    }

    /// `psql ARGUMENTS` on the installation's database as the operator, in place of this process.
    package func execPSQL(url: String, _ arguments: [String]) throws -> Never {
        let words = [try tool("psql"), url] + arguments
        let argv = words.map { strdup($0) } + [nil]
        execv(words[0], argv)
        throw LocalRunError("cannot run \(words[0]): \(String(cString: strerror(errno)))")
    }
}
