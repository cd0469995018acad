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

    /// What `--force` may replace: a safetensors file, or a folder that holds a model (or nothing). Anything
    /// else is somebody's data, and a typo in an output path must not delete it.
    static func looksLikeCheckpoint(_ path: String) -> Bool {
        guard isDirectory(path) else { return path.hasSuffix(".safetensors") }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return false }
        return names.isEmpty || names.contains { $0.hasSuffix(".safetensors") || $0 == "config.json" }
    }

    static func parent(_ path: String) -> String {
        let p = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return p.isEmpty ? "." : p
    }

    static func join(_ folder: String, _ name: String) -> String {
        URL(fileURLWithPath: folder).appendingPathComponent(name).path
    }
}
