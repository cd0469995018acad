#if canImport(Glibc)
import Glibc
#endif
import MoESlimSupport

/// One path a command writes. Every command checks all of its outputs before any work starts, so a long
/// calibrate never ends in "cannot write", no output lands on, inside or around one of the run's inputs, and
/// --force replaces only what a checkpoint or an output file consists of.
public struct OutputTarget: Sendable {
    public enum Kind: Sendable {
        /// One file: counts, a plan, a heatmap.
        case file
        /// A .safetensors file or a model folder. `companionsFrom` is the input folder whose companion files
        /// (README, licence, tokenizer) the run copies, so an existing output holding them may be replaced.
        case checkpoint(companionsFrom: String?)
    }

    public let path: String
    /// How the command line named it, for the errors: "the output", "-o", "--heatmap", "--plan-out".
    public let option: String
    public let kind: Kind

    public init(_ path: String, option: String, kind: Kind) {
        self.path = path
        self.option = option
        self.kind = kind
    }

    /// Refuses an output that would write over, inside or around an input or another output, whose folder is
    /// missing or not writable, or that exists (without --force, or when --force may not replace it).
    public static func check(_ outputs: [OutputTarget], inputs: [String], force: Bool) throws(MoESlimError) {
        for (i, output) in outputs.enumerated() {
            for input in inputs {
                try OutputOverlap.refuse(output, against: input, naming: "the input \(input)")
            }
            for earlier in outputs[..<i] {
                try OutputOverlap.refuse(output, againstOutput: earlier)
            }
            try output.checkFolder()
            try output.checkExisting(force: force)
        }
    }

    private func checkFolder() throws(MoESlimError) {
        let parent = FileSystem.parent(path)
        guard FileSystem.isDirectory(parent) else {
            throw MoESlimError(.io, "the folder for \(option) does not exist", path: parent)
        }
        guard access(parent, W_OK | X_OK) == 0 else {
            throw MoESlimError(.io, "cannot write into the folder for \(option)", path: parent, cause: POSIXFailure("access"))
        }
    }

    /// `/dev/stdout` and its kin are links into /proc (`/proc/self/fd/1`). stat sees the file they lead to, a
    /// regular file when stdout is redirected to one, and the output would then replace the link in /dev.
    private var isLinkToAnOpenFile: Bool {
        var target = [CChar](repeating: 0, count: Int(PATH_MAX))
        let length = readlink(path, &target, target.count - 1)
        guard length > 0 else { return false }
        let text = String(decoding: target[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard !text.hasPrefix("/proc/") else { return true }
        guard let folder = realpath(FileSystem.parent(path), nil) else { return false }
        defer { free(folder) }
        return String(cString: folder) == "/dev"
    }

    private func checkExisting(force: Bool) throws(MoESlimError) {
        var st = stat()
        guard stat(path, &st) == 0 else { return }
        guard force else {
            throw MoESlimError(.outputExists, "\(option) already exists (use --force to replace it)", path: path)
        }
        let kind = st.st_mode & S_IFMT
        if isLinkToAnOpenFile {
            throw MoESlimError(.outputExists, "is a link to a process's open file, not a regular file; refusing to replace it even with --force", path: path)
        }
        switch self.kind {
        case .file:
            guard kind == S_IFREG else {
                throw MoESlimError(.outputExists, "exists and is not a regular file; refusing to replace it even with --force", path: path)
            }
        case .checkpoint(let companionsFrom):
            if kind == S_IFDIR {
                if let foreign = CheckpointMembers.firstForeignEntry(in: path, companionsFrom: companionsFrom) {
                    throw MoESlimError(.outputExists, "holds '\(foreign)', which is not part of a checkpoint; refusing to replace the folder even with --force", path: path)
                }
            } else if kind != S_IFREG || !path.hasSuffix(".safetensors") {
                throw MoESlimError(.outputExists, "exists and is not a checkpoint; refusing to replace it even with --force", path: path)
            }
        }
    }
}
