import Foundation

/// CPU time and memory of the processes on this machine, read from `/proc`: what each service,
/// RabbitMQ, PostgreSQL and the bench itself spend.
package struct ProcessMeter: Sendable {
    /// One group of processes measured together (every PostgreSQL backend is one "postgres").
    package struct Group: Sendable, Hashable {
        package var name: String
        /// How to find its processes when sampled: by pid, or by the command name in `/proc/<pid>/comm`.
        package enum Selector: Sendable, Hashable {
            case pids([Int32])
            /// A process and every process below it (a PostgreSQL postmaster and its backends).
            case tree(Int32)
        }
        package var selector: Selector

        package init(name: String, selector: Selector) {
            self.name = name
            self.selector = selector
        }
    }

    /// CPU seconds (user + system) and the largest resident set seen, per group.
    package struct Sample: Sendable, Hashable {
        package var cpuSeconds: [String: Double]
        /// `VmHWM`: each process's peak resident set, in bytes; the largest of the group's processes.
        package var peakResidentBytes: [String: Int]
    }

    package let groups: [Group]

    package init(groups: [Group]) { self.groups = groups }

    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    package func sample() -> Sample {
        var cpu: [String: Double] = [:]
        var peak: [String: Int] = [:]
        let parents = Self.parents()
        for group in groups {
            let pids: [Int32] =
                switch group.selector {
                case .pids(let pids): pids
                case .tree(let root): Self.descendants(of: root, parents: parents)
                }
            for pid in pids {
                guard let (seconds, hwm) = Self.usage(of: pid) else { continue }
                cpu[group.name, default: 0] += seconds
                peak[group.name] = max(peak[group.name] ?? 0, hwm)
            }
        }
        return Sample(cpuSeconds: cpu, peakResidentBytes: peak)
    }

    /// CPU seconds and peak RSS of one process, or `nil` when it is gone.
    static func usage(of pid: Int32) -> (Double, Int)? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after the command: state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        var hwm = 0
        if let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        {
            hwm = kilobytes * 1024
        }
        return ((user + system) / ticksPerSecond, hwm)
    }

    /// Every process's parent, from `/proc/<pid>/stat`.
    static func parents() -> [Int32: Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        var parents: [Int32: Int32] = [:]
        for entry in entries {
            guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let parent = Int32(fields[1]) { parents[pid] = parent }
        }
        return parents
    }

    static func descendants(of root: Int32, parents: [Int32: Int32]) -> [Int32] {
        var children: [Int32: [Int32]] = [:]
        for (pid, parent) in parents { children[parent, default: []].append(pid) }
        var result: [Int32] = []
        var stack = [root]
        while let pid = stack.popLast() {
            guard parents[pid] != nil || pid == root else { continue }
            result.append(pid)
            stack.append(contentsOf: children[pid] ?? [])
        }
        return result
    }
}
