import CKernels
import Foundation

/// The engine's only threads: every matrix product (split by columns), every attention head and the
/// elementwise work run on these workers, with OpenBLAS single-threaded inside them.
public enum Parallel {
    /// Set once, before any work, by `useThreads`; every later split reads it.
    nonisolated(unsafe) private(set) static var workers = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Caps the cores the engine uses (the --threads option), for sharing a machine or matching a peer's count.
    public static func useThreads(_ count: Int) {
        workers = max(1, count)
    }

    /// Calls `body(range)` on disjoint ranges covering 0..<count; small counts stay on the calling thread.
    static func ranges(_ count: Int, minimum: Int = 32_768, _ body: @Sendable (Range<Int>) -> Void) {
        let parts = min(workers, max(1, count / minimum))
        guard parts > 1 else {
            body(0..<count)
            return
        }
        DispatchQueue.concurrentPerform(iterations: parts) { p in
            body((count * p / parts)..<(count * (p + 1) / parts))
        }
    }
}

/// A pointer handed to the workers of `Parallel.ranges`, each of which touches its own disjoint range.
package struct SharedPointer<T>: @unchecked Sendable {
    package let base: UnsafeMutablePointer<T>

    package init(base: UnsafeMutablePointer<T>) { self.base = base }
}

struct SharedReadPointer<T>: @unchecked Sendable {
    let base: UnsafePointer<T>
}

/// moe_gemm's operands, read by every worker, each of which writes its own columns.
struct SharedOperands: @unchecked Sendable {
    let a: moe_operand
    let w: moe_operand
}

struct SharedRawPointer: @unchecked Sendable {
    let base: UnsafeRawPointer
}
