import Foundation
import MoESlimSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Models where people keep them: a Hugging Face cache repo folder (`models--org--name`, whose `refs/main`
/// names the snapshot to read), or `org/name` when that repo is in the local cache. Nothing is downloaded.
/// The ref is read bounded and must be a commit hash in lowercase hex, so it cannot point outside the
/// repo's `snapshots/` folder.
public enum ModelLocation {
    /// The longest `refs/main` read: a 40-character hash plus a newline, with room to spare.
    static let refBytes = 256

    /// The path to open for `path`: itself, unless it is a cache repo folder or an `org/name` in the cache.
    public static func resolve(_ path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(MoESlimError) -> String {
        if FileSystem.isDirectory(path) {
            let name = Array(FileSystem.lastComponent(path).utf8)
            guard name.starts(with: Array("models--".utf8)), FileSystem.isDirectory(FileSystem.join(path, "snapshots")) else { return path }
            return try snapshot(of: path)
        }
        guard !FileSystem.exists(path), let repo = repoFolderName(path) else { return path }
        let cache = hubCache(environment)
        let folder = FileSystem.join(cache, repo)
        guard FileSystem.isDirectory(folder) else {
            throw MoESlimError(
                .io, "no such file or folder, and no '\(path)' in the Hugging Face cache at \(cache) (moe-slim never downloads; `hf download \(path)` does)",
                path: path)
        }
        return try snapshot(of: folder)
    }

    /// HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub, as huggingface_hub looks.
    static func hubCache(_ environment: [String: String]) -> String {
        if let cache = environment["HF_HUB_CACHE"], !cache.isEmpty { return cache }
        if let home = environment["HF_HOME"], !home.isEmpty { return FileSystem.join(home, "hub") }
        let base = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? FileSystem.join(environment["HOME"] ?? NSHomeDirectory(), ".cache")
        return FileSystem.join(base, "huggingface/hub")
    }

    /// `models--org--name` for `org/name` written as a Hugging Face repo id (letters, digits, `-`, `_`, `.`;
    /// not starting with `.` or `-`), checked as bytes; nil for anything else, such as a path.
    static func repoFolderName(_ text: String) -> String? {
        let parts = Array(text.utf8).split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        for part in parts {
            guard let first = part.first, first != UInt8(ascii: "."), first != UInt8(ascii: "-"), part.count <= 96,
                part.allSatisfy({ isRepoByte($0) })
            else { return nil }
        }
        return "models--" + parts.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "--")
    }

    private static func isRepoByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
            || b == UInt8(ascii: "-") || b == UInt8(ascii: "_") || b == UInt8(ascii: ".")
    }

    /// `snapshots/<refs/main>` of a cache repo folder.
    private static func snapshot(of repo: String) throws(MoESlimError) -> String {
        let refPath = FileSystem.join(repo, "refs/main")
        guard FileSystem.exists(refPath) else {
            throw MoESlimError(.io, "a Hugging Face cache folder without refs/main; give the snapshot folder itself (\(repo)/snapshots/<commit>)", path: repo)
        }
        let (fd, _) = try InputFile.open(refPath, as: .companion)
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: refBytes + 1)
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, refBytes + 1) }
        guard n >= 0 else { throw MoESlimError(.io, "cannot read", path: refPath, cause: POSIXFailure("read")) }
        var ref = Array(bytes[..<n])
        while let last = ref.last, last == 0x0A || last == 0x0D || last == 0x20 { ref.removeLast() }
        let hex = ref.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
        guard n <= refBytes, hex, ref.count == 40 || ref.count == 64 else {
            throw MoESlimError(.invalidData, "is not a commit hash (40 or 64 lowercase hex digits)", path: refPath)
        }
        let folder = FileSystem.join(repo, "snapshots/" + String(decoding: ref, as: UTF8.self))
        guard FileSystem.isDirectory(folder) else {
            throw MoESlimError(.io, "refs/main names snapshot \(String(decoding: ref, as: UTF8.self)), which is not in snapshots/ (an interrupted download?)", path: repo)
        }
        return folder
    }

    /// A folder with only PyTorch's pickled weights (`pytorch_model.bin`, sharded or not): moe-slim reads
    /// safetensors only (unpickling runs code from the file), so say how to write them.
    static func refusePickleOnly(_ folder: String) throws(MoESlimError) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        guard let bin = names.sorted().first(where: { $0.hasPrefix("pytorch_model") && $0.hasSuffix(".bin") }) else { return }
        let quoted = ShellQuoted.of(folder)
        let out = ShellQuoted.of((folder.hasSuffix("/") ? String(folder.dropLast()) : folder) + "-safetensors")
        throw MoESlimError(
            .io,
            "has PyTorch pickle weights (\(bin)) but no model.safetensors or \(Checkpoint.indexName); moe-slim reads safetensors only. Write them with transformers (it loads the whole model): "
                + "python -c \"from transformers import AutoModelForCausalLM as M, AutoTokenizer as T; p, o = \(quoted), \(out); M.from_pretrained(p, dtype='auto').save_pretrained(o); T.from_pretrained(p).save_pretrained(o)\"",
            path: folder)
    }

}
