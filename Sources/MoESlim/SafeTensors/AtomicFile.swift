import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Small files (configs, plans, counts) written the same safe way as checkpoints: temporary beside the
/// target, fsync, rename.
public enum AtomicFile {
    public static func write(_ bytes: [UInt8], to path: String) throws(MoESlimError) {
        let temp = FileSystem.join(FileSystem.parent(path), ".\((path as NSString).lastPathComponent).moe-slim-tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        TemporaryPaths.shared.register(temp)
        defer { TemporaryPaths.shared.unregister(temp) }
        var writer = try SafeTensorsStreamWriter(path: temp)
        do throws(MoESlimError) {
            try writer.write(bytes)
            try writer.finish()
        } catch {
            writer.abandon()
            unlink(temp)
            throw error
        }
        guard rename(temp, path) == 0 else {
            let failure = POSIXFailure("rename")
            unlink(temp)
            throw MoESlimError(.io, "cannot move into place", path: path, cause: failure)
        }
    }

    public static func write(_ text: String, to path: String) throws(MoESlimError) {
        try write(Array(text.utf8), to: path)
    }
}
