#if canImport(Glibc)
import Glibc
#endif
import CShims
import MoESlimSupport

/// A file or folder being written beside its destination, named `.moe-slim-tmp-<pid>-<random>.<name>`.
/// While it exists this process holds an exclusive flock on it, and the signal handlers know it (CShims), so:
/// Ctrl-C, SIGTERM or a fault removes it; after kill -9 or a power cut the lock is gone with the process, and
/// the next write into the same folder removes it (StaleTemporaries). formats/outputs.md states the rule.
package final class Temporary {
    package static let marker = ".moe-slim-tmp-"

    package let path: String
    private var slot: Int32

    /// Creates an empty temporary beside `destination`, after removing stale ones of dead runs there.
    package init(beside destination: String, folder: Bool) throws(MoESlimError) {
        let parent = FileSystem.parent(destination)
        StaleTemporaries.remove(in: parent)
        let name = FileSystem.lastComponent(destination)
        for _ in 0..<8 {
            let path = FileSystem.join(parent, "\(Self.marker)\(getpid())-\(UInt32.random(in: 0...UInt32.max)).\(name)")
            // Registered before it is created, so a signal at any moment after creation removes it. A path of
            // this name that already exists can only be a dead run's temporary (the name holds our pid), which
            // StaleTemporaries would remove anyway.
            let slot = moeslim_temporary_register(path, -1)
            guard slot >= 0 else {
                throw MoESlimError(.io, "cannot track a temporary (path too long, or too many at once)", path: path)
            }
            let created: Int32?
            do {
                created = try Self.createLocked(path, folder: folder)
            } catch {
                moeslim_temporary_forget(slot)
                throw error
            }
            guard let fd = created else {
                moeslim_temporary_forget(slot)
                continue
            }
            moeslim_temporary_adopt(slot, fd)
            self.path = path
            self.slot = slot
            return
        }
        throw MoESlimError(.io, "cannot create a temporary beside the output", path: destination)
    }

    deinit { remove() }

    /// The temporary was renamed into place: there is nothing left to remove.
    func published() {
        moeslim_temporary_forget(slot)
        slot = -1
    }

    /// Removes what is at the temporary's path (a folder with the files in it; after a swap into place, the
    /// previous output); safe to call more than once.
    package func remove() {
        moeslim_temporary_remove(slot)
        slot = -1
    }

    /// Creates and locks the path, returning the locked descriptor, or nil when the name was taken or a
    /// sweep of another run removed it between creation and lock (the caller tries another name).
    private static func createLocked(_ path: String, folder: Bool) throws(MoESlimError) -> Int32? {
        if folder {
            guard mkdir(path, 0o755) == 0 else {
                if errno == EEXIST { return nil }
                throw MoESlimError(.io, "cannot create a temporary folder", path: path, cause: POSIXFailure("mkdir"))
            }
        } else {
            let created = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard created >= 0 else {
                if errno == EEXIST { return nil }
                throw MoESlimError(.io, "cannot create", path: path, cause: POSIXFailure("open"))
            }
            close(created)
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (folder ? O_DIRECTORY : 0))
        guard fd >= 0 else { return nil }
        while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
        guard FileIdentity(descriptor: fd) == FileIdentity(linkAt: path) else {
            close(fd)
            return nil
        }
        return fd
    }
}
