import CKernels

/// The kernel paths this CPU can take, for tests whose result could depend on the path: each such test runs its
/// body once per path, so no test passes only on the CPU it was written on.
enum KernelPaths {
    static let names = [Int(MOE_KERNEL_PORTABLE): "portable", Int(MOE_KERNEL_AVX2): "avx2", Int(MOE_KERNEL_AVX512_BF16): "avx512-bf16"]

    /// Runs `body` with each supported path forced in turn, lowest first, then restores the best.
    static func each(_ body: (String) throws -> Void) rethrows {
        defer { _ = moe_kernel_use(moe_kernel_best()) }
        for path in Int32(MOE_KERNEL_PORTABLE)...moe_kernel_best() {
            _ = moe_kernel_use(path)
            try body(names[Int(path)] ?? "path \(path)")
        }
    }
}
