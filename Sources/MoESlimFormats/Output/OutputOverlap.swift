#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MoESlimSupport

/// Whether an output would write over one of the run's inputs, into an input folder, or replace a folder that
/// holds an input. Compared by identity (device and inode), so links, `..` and bind mounts cannot hide it.
enum OutputOverlap {
    static func refuse(_ output: OutputTarget, against input: String, naming described: String) throws(MoESlimError) {
        guard let inputID = FileIdentity(at: input) else { return }
        let outputID = FileIdentity(at: output.path)
        if outputID == inputID || FileSystem.isDirectory(input) && folders(holding: output.path).contains(inputID) {
            throw MoESlimError(.invalidArgument, "\(output.option) would write over or inside \(described)", path: output.path)
        }
        if let outputID, FileSystem.isDirectory(output.path), folders(holding: input).contains(outputID) {
            throw MoESlimError(.invalidArgument, "\(output.option) is a folder that holds \(described)", path: output.path)
        }
    }

    /// Two outputs of one run, which may not exist yet: the same name in the same folder is the same place.
    static func refuse(_ output: OutputTarget, againstOutput other: OutputTarget) throws(MoESlimError) {
        let folder = FileIdentity(at: FileSystem.parent(output.path))
        if folder != nil && folder == FileIdentity(at: FileSystem.parent(other.path))
            && Array(FileSystem.lastComponent(output.path).utf8) == Array(FileSystem.lastComponent(other.path).utf8) {
            throw MoESlimError(.invalidArgument, "\(output.option) would write over or inside \(other.option) \(other.path)", path: output.path)
        }
        try refuse(output, against: other.path, naming: "\(other.option) \(other.path)")
    }

    /// The folders a path sits in, from its own folder up to the root, as they really are: the deepest one that
    /// exists is resolved (links followed), so what is above it holds no links. The path itself is not among
    /// them: a link at the output's place is replaced by the output, not written through.
    /// The deepest existing folder is found walking down from the root, up to the first component that does not
    /// exist: walking up with `parent` never reached the root from `missing/../..` (removing a `..` adds one).
    static func folders(holding path: String) -> Set<FileIdentity> {
        var folder = "/"
        for component in absolute(path).split(separator: "/").dropLast() {
            let next = (folder == "/" ? "" : folder) + "/" + component
            guard let exists = realpath(next, nil) else { break }
            free(exists)
            folder = next
        }
        guard let resolved = realpath(folder, nil) else { return [] }
        var current = String(cString: resolved)
        free(resolved)
        var identities: Set<FileIdentity> = []
        while true {
            if let id = FileIdentity(at: current) { identities.insert(id) }
            if current == "/" { break }
            current = FileSystem.parent(current)
        }
        return identities
    }

    private static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}
