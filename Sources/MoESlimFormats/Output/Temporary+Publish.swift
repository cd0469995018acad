#if canImport(Glibc)
import Glibc
#endif
import CShims
import MoESlimSupport

extension Temporary {
    /// Puts the finished temporary in place. An existing destination (with --force) is swapped out atomically
    /// and only then removed (it is at the temporary's path by then), so there is no moment without a complete
    /// output.
    package func publish(to destination: String, force: Bool) throws(MoESlimError) {
        if FileSystem.exists(destination) {
            guard force else {
                throw MoESlimError(.outputExists, "output appeared while writing (use --force to replace it)", path: destination)
            }
            if moeslim_rename_exchange(path, destination) == 0 {
                remove()
            } else if rename(path, destination) == 0 {
                published()
            } else {
                throw MoESlimError(.io, "cannot replace the output", path: destination, cause: POSIXFailure("rename"))
            }
        } else if moeslim_rename_noreplace(path, destination) == 0 {
            published()
        } else {
            let failure = POSIXFailure("rename")
            if failure.errno == EEXIST {
                throw MoESlimError(.outputExists, "output appeared while writing", path: destination)
            }
            guard failure.errno == ENOSYS || failure.errno == EINVAL, rename(path, destination) == 0 else {
                throw MoESlimError(.io, "cannot move the output into place", path: destination, cause: failure)
            }
            published()
        }
        try Self.syncDirectory(FileSystem.parent(destination))
    }

    static func syncDirectory(_ path: String) throws(MoESlimError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw MoESlimError(.io, "cannot open folder", path: path, cause: POSIXFailure("open")) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw MoESlimError(.io, "fsync failed", path: path, cause: POSIXFailure("fsync")) }
    }
}
