#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MoESlimSupport

/// How many bytes of a model the page cache can hold for this process: the machine's physical memory, or less
/// when the process's memory cgroup is limited (a batch job's allocation). Page cache is charged to the cgroup
/// that read it and evicted at the group's limit, so a 60 GB model in a 32 GB job behaves like a model larger
/// than RAM even on a 256 GB node.
public enum PageCacheRoom {
    public static func bytes() -> Int {
        let physical = Int(sysconf(Int32(_SC_PHYS_PAGES))).multipliedReportingOverflow(by: Int(sysconf(Int32(_SC_PAGESIZE))))
        let machine = physical.overflow || physical.partialValue <= 0 ? Int.max : physical.partialValue
        return min(machine, cgroupLimit(membership: text("/proc/self/cgroup") ?? "", read: text) ?? Int.max)
    }

    /// The smallest memory limit over the process's cgroups, v1 or v2, ancestors included; nil when none is
    /// set or none can be read. `membership` is /proc/self/cgroup; `read` reads a file below /sys/fs/cgroup.
    static func cgroupLimit(membership: String, read: (String) -> String?) -> Int? {
        var limit: Int?
        func lower(_ value: Int?) {
            if let value { limit = min(limit ?? value, value) }
        }
        for line in membership.split(separator: "\n") {
            // hierarchy-id:controllers:path; v2's unified hierarchy is "0::path".
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3, fields[2].utf8.first == UInt8(ascii: "/") else { continue }
            let path = fields[2].utf8.elementsEqual("/".utf8) ? "" : String(fields[2])
            if fields[1].split(separator: ",").contains(where: { $0.utf8.elementsEqual("memory".utf8) }) {
                // v1: memory.stat states the smallest limit of the group and its ancestors.
                lower(read("/sys/fs/cgroup/memory\(path)/memory.stat").flatMap { statValue($0, key: "hierarchical_memory_limit") })
            } else if fields[0].utf8.elementsEqual("0".utf8) && fields[1].isEmpty {
                // v2: each level has its own memory.max ("max" when unlimited).
                var prefix = ""
                for part in path.split(separator: "/") {
                    prefix += "/" + part
                    lower(read("/sys/fs/cgroup\(prefix)/memory.max").flatMap { Int($0.trimmingTrailingNewline) })
                }
            }
        }
        // v1 states "no limit" as a number near 2^63.
        return limit.flatMap { $0 >= Int.max / 2 ? nil : $0 }
    }

    /// The value of `key` in a "key value" per line file such as memory.stat.
    static func statValue(_ text: String, key: String) -> Int? {
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[0].utf8.elementsEqual(key.utf8) { return Int(parts[1]) }
        }
        return nil
    }

    /// A small kernel-made text file, or nil when it cannot be read.
    private static func text(_ path: String) -> String? {
        (try? InputFile.read(path, as: .config)).map { String(decoding: $0, as: UTF8.self) }
    }
}

private extension String {
    var trimmingTrailingNewline: Substring { hasSuffix("\n") ? dropLast() : Substring(self) }
}
