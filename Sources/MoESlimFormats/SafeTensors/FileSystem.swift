import Foundation

/// Path helpers kept in one place so that every command resolves links and folders the same way.
package enum FileSystem {
    package static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    package static func exists(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path)
    }

    /// The real location of a path, links resolved, so "same input and output" is caught through links too.
    /// A path that does not exist yet is resolved through its parent, so a link in the folder part cannot hide
    /// that an output lands inside an input.
    package static func canonical(_ path: String) -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        if FileManager.default.fileExists(atPath: url.path) || url.path == "/" {
            return url.resolvingSymlinksInPath().path
        }
        return URL(fileURLWithPath: canonical(url.deletingLastPathComponent().path))
            .appendingPathComponent(url.lastPathComponent).path
    }

    package static func parent(_ path: String) -> String {
        let p = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return p.isEmpty ? "." : p
    }

    /// The name a path ends in ("model" for "/x/model/"), for naming a temporary after its destination.
    static func lastComponent(_ path: String) -> String {
        URL(fileURLWithPath: path).lastPathComponent
    }

    package static func join(_ folder: String, _ name: String) -> String {
        URL(fileURLWithPath: folder).appendingPathComponent(name).path
    }
}
