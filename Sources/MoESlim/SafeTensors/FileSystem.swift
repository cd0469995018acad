import Foundation

/// Path helpers kept in one place so that every command resolves links and folders the same way.
enum FileSystem {
    static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    static func exists(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path)
    }

    /// The real location of a path, links resolved, so "same input and output" is caught through links too.
    /// A path that does not exist yet is resolved through its parent, so a link in the folder part cannot hide
    /// that an output lands inside an input.
    static func canonical(_ path: String) -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        if FileManager.default.fileExists(atPath: url.path) || url.path == "/" {
            return url.resolvingSymlinksInPath().path
        }
        return URL(fileURLWithPath: canonical(url.deletingLastPathComponent().path))
            .appendingPathComponent(url.lastPathComponent).path
    }

    static func parent(_ path: String) -> String {
        let p = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return p.isEmpty ? "." : p
    }

    /// The name a path ends in ("model" for "/x/model/"), for naming a temporary after its destination.
    static func lastComponent(_ path: String) -> String {
        URL(fileURLWithPath: path).lastPathComponent
    }

    static func join(_ folder: String, _ name: String) -> String {
        URL(fileURLWithPath: folder).appendingPathComponent(name).path
    }

    /// Plain read(2) rather than FileManager.contents, which leaks a buffer on empty files (found by the
    /// fuzzer under LeakSanitizer) and cannot say why a read failed.
    static func readBytes(_ path: String) throws(MoESlimError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw MoESlimError(.io, "cannot read", path: path, cause: POSIXFailure("open")) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 { return bytes }
            guard n > 0 else {
                if errno == EINTR { continue }
                throw MoESlimError(.io, "cannot read", path: path, cause: POSIXFailure("read"))
            }
            bytes.append(contentsOf: chunk[..<n])
        }
    }

    static func readJSON(_ path: String, code: MoESlimError.Code) throws(MoESlimError) -> JSONValue {
        let bytes = try readBytes(path)
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw MoESlimError(code, "\(error)", path: path)
        }
    }
}
