#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CShims
import MoESlimSupport

/// Read-only bytes that stay valid while anything holds the region: a whole file mapped by mmap, or a copy.
/// A header's tensor names are ranges of the mapped file itself, so the header table holds the mapping too,
/// and no name is copied or made a String until something asks for it.
package final class ByteRegion: @unchecked Sendable {
    package let bytes: UnsafeRawBufferPointer
    private let mapped: Bool
    /// Where the signal handler finds this mapping's file name: a read past the end of a file truncated after
    /// it was mapped raises SIGBUS, which then ends the run with an error naming the file (CShims).
    private let mappingSlot: Int32

    /// Maps `size` bytes of `descriptor` (at least one), the file at `path`, registered as error messages print it.
    package init?(mapping descriptor: Int32, size: Int, path: String) {
        guard let p = mmap(nil, size, PROT_READ, MAP_SHARED, descriptor, 0), p != MAP_FAILED else { return nil }
        bytes = UnsafeRawBufferPointer(start: p, count: size)
        mapped = true
        mappingSlot = moeslim_mapping_register(p, size, EscapedText.of(path))
    }

    package init(copying source: UnsafeRawBufferPointer) {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: source.count, alignment: 16)
        if let base = source.baseAddress, let target = copy.baseAddress, source.count > 0 {
            target.copyMemory(from: base, byteCount: source.count)
        }
        bytes = UnsafeRawBufferPointer(copy)
        mapped = false
        mappingSlot = -1
    }

    deinit {
        if mapped {
            moeslim_mapping_unregister(mappingSlot)
            munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count)
        } else {
            bytes.deallocate()
        }
    }
}
