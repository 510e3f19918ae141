import Foundation

/// How much memory a model may take: what the machine has available now, lowered by a cgroup limit
/// (containers) and by `CONVSCOPE_MEMORY_LIMIT` when set.
public struct MemoryBudget: Sendable, Equatable {
    /// Where the number comes from.
    public enum Source: String, Sendable {
        /// `MemAvailable` in `/proc/meminfo`: free memory plus what the kernel can reclaim.
        case available
        /// The cgroup's `memory.max` less its `memory.current`.
        case cgroup
        /// Physical memory (when `/proc/meminfo` cannot be read).
        case physical
        /// The `CONVSCOPE_MEMORY_LIMIT` environment variable.
        case environment
    }

    public var bytes: Double
    public var source: Source

    public init(bytes: Double, source: Source) {
        self.bytes = bytes
        self.source = source
    }

    /// The environment variable that caps the budget (`8G`, `512M`, `1000000`): for a machine shared with
    /// other work, and for tests.
    public static let environmentKey = "CONVSCOPE_MEMORY_LIMIT"

    /// The machine's budget now: the smallest of what is available, the cgroup's room and the variable.
    public static func machine(environment: [String: String] = ProcessInfo.processInfo.environment) -> MemoryBudget {
        var candidates: [MemoryBudget] = []
        if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8), let bytes = available(meminfo: text) {
            candidates.append(MemoryBudget(bytes: bytes, source: .available))
        } else {
            let physical = Double(sysconf(Int32(_SC_PHYS_PAGES))) * Double(sysconf(Int32(_SC_PAGESIZE)))
            candidates.append(MemoryBudget(bytes: physical > 0 ? physical : 16 * 1_073_741_824, source: .physical))
        }
        if let limit = cgroupRoom() { candidates.append(MemoryBudget(bytes: limit, source: .cgroup)) }
        if let text = environment[environmentKey], let bytes = size(text) {
            candidates.append(MemoryBudget(bytes: bytes, source: .environment))
        }
        return candidates.min { $0.bytes < $1.bytes }!
    }

    /// `MemAvailable` of a `/proc/meminfo` text, in bytes.
    public static func available(meminfo: String) -> Double? {
        for line in meminfo.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let fields = line.split(separator: " ")
            guard fields.count >= 2, let kilobytes = Double(fields[1]) else { return nil }
            return kilobytes * 1024
        }
        return nil
    }

    /// Room left under the cgroup v2 limit of this process, when there is one.
    private static func cgroupRoom() -> Double? {
        guard let maximum = try? String(contentsOfFile: "/sys/fs/cgroup/memory.max", encoding: .utf8),
            let limit = Double(maximum.trimmingCharacters(in: .whitespacesAndNewlines))
        else { return nil }
        let current = (try? String(contentsOfFile: "/sys/fs/cgroup/memory.current", encoding: .utf8))
            .flatMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
        return max(limit - current, 0)
    }

    /// A size such as `1000000`, `512K`, `64M`, `8G` or `1T` (powers of 1024), in bytes.
    public static func size(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).uppercased()
        let units: [Character: Double] = ["K": 1024, "M": 1_048_576, "G": 1_073_741_824, "T": 1_099_511_627_776]
        var digits = Substring(trimmed)
        var scale = 1.0
        if let last = digits.last, let unit = units[last] {
            scale = unit
            digits = digits.dropLast()
        }
        guard let value = Double(digits), value.isFinite, value >= 0 else { return nil }
        return value * scale
    }
}
