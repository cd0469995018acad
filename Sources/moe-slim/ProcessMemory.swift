#if canImport(Glibc)
import Glibc
#endif

/// calibrate widens each layer's weights into fresh f32 buffers of tens of MB. glibc serves those with mmap
/// and unmaps them on free, so every layer of every chunk paid a page fault per 4 KB to get zeroed pages back
/// (about a third of the run's CPU time). Serving them from the heap and never trimming it reuses the pages;
/// the peak stays what the `--memory` budget allows. mallopt is not in Glibc's Swift module, hence dlsym.
enum ProcessMemory {
    static func keepFreedPages() {
        #if canImport(Glibc)
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let trimThreshold: Int32 = -1, mmapMax: Int32 = -4
        _ = mallopt(mmapMax, 0)
        _ = mallopt(trimThreshold, Int32.max)
        #endif
    }
}
