import Foundation

/// CPU time and memory of the processes on this machine, read from `/proc`: what each service,
/// RabbitMQ, PostgreSQL and the bench itself spend.
public struct ProcessMeter: Sendable {
    /// One group of processes measured together (every PostgreSQL backend is one "postgres").
    public struct Group: Sendable, Hashable {
        public var name: String
        /// How to find its processes when sampled: by pid, or by the command name in `/proc/<pid>/comm`.
        public enum Selector: Sendable, Hashable {
            case pids([Int32])
            case command(String)
        }
        public var selector: Selector

        public init(name: String, selector: Selector) {
            self.name = name
            self.selector = selector
        }
    }

    /// CPU seconds (user + system) and the largest resident set seen, per group.
    public struct Sample: Sendable, Hashable {
        public var cpuSeconds: [String: Double]
        /// `VmHWM`: each process's peak resident set, in bytes; the largest of the group's processes.
        public var peakResidentBytes: [String: Int]
    }

    public let groups: [Group]

    public init(groups: [Group]) { self.groups = groups }

    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    public func sample() -> Sample {
        var cpu: [String: Double] = [:]
        var peak: [String: Int] = [:]
        let all = Self.allProcesses()
        for group in groups {
            let pids: [Int32] =
                switch group.selector {
                case .pids(let pids): pids
                case .command(let command): all.filter { $0.command == command }.map(\.pid)
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

    static func allProcesses() -> [(pid: Int32, command: String)] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry in
            guard let pid = Int32(entry), let command = try? String(contentsOfFile: "/proc/\(entry)/comm", encoding: .utf8) else { return nil }
            return (pid, command.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }
}
