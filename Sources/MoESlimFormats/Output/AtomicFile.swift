#if canImport(Glibc)
import Glibc
#endif
import MoESlimSupport

/// Small files (configs, plans, counts, heatmaps) written the same safe way as checkpoints: temporary beside
/// the target, fsync, rename.
public enum AtomicFile {
    public static func write(_ bytes: [UInt8], to path: String) throws(MoESlimError) {
        let temp = try Temporary(beside: path, folder: false)
        try fill(temp, with: bytes)
        guard rename(temp.path, path) == 0 else {
            let failure = POSIXFailure("rename")
            temp.remove()
            throw MoESlimError(.io, "cannot move into place", path: path, cause: failure)
        }
        temp.published()
    }

    public static func write(_ text: String, to path: String) throws(MoESlimError) {
        try write(Array(text.utf8), to: path)
    }

    /// Writes the bytes into a temporary file and syncs them; the caller decides where it goes.
    package static func fill(_ temp: Temporary, with bytes: [UInt8]) throws(MoESlimError) {
        var writer = try SafeTensorsStreamWriter(temporary: temp)
        do throws(MoESlimError) {
            try writer.write(bytes)
            try writer.finish()
        } catch {
            writer.abandon()
            temp.remove()
            throw error
        }
    }
}

extension String {
    /// Writes the text whole or not at all (SVG heatmaps).
    public func writeAtomically(to path: String) throws(MoESlimError) {
        try AtomicFile.write(self, to: path)
    }
}
