#if canImport(Glibc)
import Glibc
#endif

/// What a path is, rather than how it is spelled: device and inode. Two spellings (links, `..`, bind mounts)
/// of one file or folder have the same identity.
package struct FileIdentity: Hashable {
    package let device: UInt64
    package let inode: UInt64

    private init(_ st: stat) {
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
    }

    /// The file a path leads to, links followed; nil when it does not exist.
    package init?(at path: String) {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        self.init(st)
    }

    /// The entry itself, a link not followed.
    package init?(linkAt path: String) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        self.init(st)
    }

    package init?(descriptor: Int32) {
        var st = stat()
        guard fstat(descriptor, &st) == 0 else { return nil }
        self.init(st)
    }
}
