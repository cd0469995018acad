#if canImport(Glibc)
import Glibc
#endif
import CShims

/// Temporaries left by runs that died without cleaning up (kill -9, a power cut) can be as large as a whole
/// checkpoint. A live run holds an exclusive flock on each of its temporaries, so one that can be locked
/// belongs to nobody any more and is removed. Only our own names are touched, only in the folder being written
/// to, and only plain files and folders of plain files.
enum StaleTemporaries {
    static func remove(in folder: String) {
        guard let dir = opendir(folder) else { return }
        defer { closedir(dir) }
        var names: [String] = []
        // A dirent is only as long as its name: copying the declared 256-byte d_name reads past short records
        // (AddressSanitizer caught it), so the name is read through a pointer up to its NUL.
        let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        while let entry = readdir(dir) {
            let name = String(cString: UnsafeRawPointer(entry).advanced(by: nameOffset).assumingMemoryBound(to: CChar.self))
            if isOurs(name) { names.append(name) }
        }
        for name in names { removeIfUnlocked(FileSystem.join(folder, name)) }
    }

    /// `.moe-slim-tmp-…`, and `.<name>.moe-slim-tmp-…` as small files were named before.
    static func isOurs(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        let marker = Array(Temporary.marker.utf8)
        guard bytes.first == UInt8(ascii: "."), bytes.count > marker.count else { return false }
        return (0...(bytes.count - marker.count)).contains { bytes[$0..<($0 + marker.count)].elementsEqual(marker) }
    }

    private static func removeIfUnlocked(_ path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return }
        let kind = st.st_mode & S_IFMT
        guard kind == S_IFREG || kind == S_IFDIR else { return }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return }
        // Still the same entry (not replaced between open and lock), and removed while the lock is held, so a
        // run that created it just now and is waiting for its lock sees it gone and picks another name.
        guard FileIdentity(descriptor: fd) == FileIdentity(linkAt: path) else { return }
        if kind == S_IFDIR {
            _ = moeslim_remove_folder_entries(fd, path)
        } else {
            unlink(path)
        }
    }
}
