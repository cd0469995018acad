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
    static func canonical(_ path: String) -> String {
        URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.path
    }

    static func parent(_ path: String) -> String {
        let p = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return p.isEmpty ? "." : p
    }

    static func join(_ folder: String, _ name: String) -> String {
        URL(fileURLWithPath: folder).appendingPathComponent(name).path
    }

    static func readBytes(_ path: String) throws(MoESlimError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MoESlimError(.io, "cannot read", path: path)
        }
        return [UInt8](data)
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
