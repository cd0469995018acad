import Foundation
#if canImport(Glibc)
import Glibc
#endif
import CShims
import MoESlimSupport

/// Writes a checkpoint so that the destination only ever holds a complete one: everything goes into a
/// temporary file or folder beside the destination, is fsynced and validated, and is then renamed into place.
/// On any failure the temporary is removed and the destination is as it was.
public struct CheckpointWriter {
    /// A file written beside the shards: given bytes (config.json), or a copy of a file streamed through a
    /// small buffer (tokenizer files can be tens of megabytes).
    public struct ExtraFile: Sendable {
        public let name: String
        public let contents: [UInt8]?
        public let source: String?

        public init(name: String, contents: [UInt8]) {
            self.name = name
            self.contents = contents
            self.source = nil
        }

        public init(name: String, copyOf source: String) {
            self.name = name
            self.contents = nil
            self.source = source
        }
    }

    public let destination: String
    public let asFolder: Bool
    public let sharding: Sharding
    public let metadata: [(key: String, value: String)]
    public let force: Bool

    /// `inputs` are the paths this run reads; writing over, inside or around any of them is refused (by
    /// identity, through links). `companionsFrom` is the input folder whose companion files the run copies.
    public init(
        destination: String, asFolder: Bool, sharding: Sharding, metadata: [(key: String, value: String)],
        force: Bool, inputs: [String], companionsFrom: String? = nil
    ) throws(MoESlimError) {
        if asFolder == destination.hasSuffix(".safetensors") {
            throw MoESlimError(.invalidArgument, asFolder
                ? "the input is a model folder, so the output must be a folder, not a .safetensors file"
                : "the input is a single .safetensors file, so the output must be one too", path: destination)
        }
        if !asFolder && sharding != .keepInput {
            throw MoESlimError(.invalidArgument, "--max-shard-size needs a folder output; a single .safetensors file is one shard", path: destination)
        }
        try OutputTarget.check([OutputTarget(destination, option: "the output", kind: .checkpoint(companionsFrom: companionsFrom))],
                               inputs: inputs, force: force)
        self.destination = destination
        self.asFolder = asFolder
        self.sharding = sharding
        var meta = metadata.filter { $0.key != "format" }
        meta.insert(("format", "pt"), at: 0)
        self.metadata = meta
        self.force = force
    }

    /// Writes tensors (and, for a folder, the index and extra files such as config.json), runs `validate` on
    /// the finished temporary path, then renames it into place. Returns the names of the shards written.
    @discardableResult
    public func write(
        _ tensors: [OutputTensor], extraFiles: [ExtraFile] = [],
        validate: (String) throws(MoESlimError) -> Void = { _ throws(MoESlimError) in }
    ) throws(MoESlimError) -> [String] {
        var seen = Set<ByteName>()
        for t in tensors where !seen.insert(ByteName(t.name)).inserted {
            throw MoESlimError(.invalidArgument, "two output tensors share a name", tensor: t.name)
        }
        let temp = try Temporary(beside: destination, folder: asFolder)
        do throws(MoESlimError) {
            let written: [String]
            if asFolder {
                written = try writeFolder(tensors, extraFiles: extraFiles, into: temp.path)
            } else {
                var writer = try SafeTensorsStreamWriter(temporary: temp)
                try writeShard(tensors, indices: Array(tensors.indices), into: &writer)
                written = [FileSystem.lastComponent(destination)]
            }
            try validate(temp.path)
            try publish(temp)
            return written
        } catch {
            temp.remove()
            throw error
        }
    }

    private func writeFolder(_ tensors: [OutputTensor], extraFiles: [ExtraFile], into folder: String) throws(MoESlimError) -> [String] {
        let groups = sharding.assign(tensors).filter { !$0.isEmpty || tensors.isEmpty }
        var names: [String] = []
        var weightMap: [(key: String, value: JSONValue)] = []
        for (i, group) in groups.enumerated() {
            let name = Sharding.shardName(i, of: groups.count)
            try writeShard(tensors, indices: group, to: FileSystem.join(folder, name))
            names.append(name)
            for j in group { weightMap.append((tensors[j].name, .string(name))) }
        }
        if groups.count > 1 {
            let total = tensors.reduce(0) { $0 + $1.byteCount }
            let index: JSONValue = .object([
                ("metadata", .object([("total_size", .int(total))])),
                ("weight_map", .object(weightMap.sorted { $0.key < $1.key })),
            ])
            try writeSmallFile(Array((index.serialized(indent: 2, sortKeys: true) + "\n").utf8),
                               to: FileSystem.join(folder, Checkpoint.indexName))
        }
        for extra in extraFiles {
            if let source = extra.source {
                try copyFile(source, to: FileSystem.join(folder, extra.name))
            } else {
                try writeSmallFile(extra.contents ?? [], to: FileSystem.join(folder, extra.name))
            }
        }
        try syncDirectory(folder)
        return names
    }

    private func writeShard(_ tensors: [OutputTensor], indices: [Int], to path: String) throws(MoESlimError) {
        var writer = try SafeTensorsStreamWriter(path: path)
        try writeShard(tensors, indices: indices, into: &writer)
    }

    private func writeShard(_ tensors: [OutputTensor], indices: [Int], into writer: inout SafeTensorsStreamWriter) throws(MoESlimError) {
        let shardTensors = indices.map { tensors[$0] }
        do throws(MoESlimError) {
            try writer.write(SafeTensorsStreamWriter.header(for: shardTensors, metadata: metadata))
            for t in shardTensors {
                try emit(t, into: &writer)
            }
            try writer.finish()
        } catch {
            writer.abandon()
            throw error
        }
    }

    private func emit(_ t: OutputTensor, into writer: inout SafeTensorsStreamWriter) throws(MoESlimError) {
        let expected = t.byteCount
        switch t.source {
        case .ranges(let file, let ranges):
            let total = ranges.reduce(0) { $0 + $1.count }
            guard total == expected else {
                throw MoESlimError(.invalidTensor, "internal: \(total) source bytes for a tensor of \(expected)", tensor: t.name)
            }
            for range in coalesce(ranges) { try writer.copy(from: file, range: range) }
        case .bytes(let bytes):
            guard bytes.count == expected else {
                throw MoESlimError(.invalidTensor, "internal: \(bytes.count) bytes for a tensor of \(expected)", tensor: t.name)
            }
            try writer.write(bytes)
        case .produce(let fill):
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(expected, 1), alignment: 64)
            defer { buffer.deallocate() }
            let exact = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<expected])
            do {
                try fill(exact)
            } catch let e as MoESlimError {
                throw e
            } catch {
                throw MoESlimError(.invalidTensor, "\(error)", tensor: t.name)
            }
            try writer.write(UnsafeRawBufferPointer(exact))
        }
    }

    private func coalesce(_ ranges: [Range<Int>]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        for r in ranges where !r.isEmpty {
            if let last = out.last, last.upperBound == r.lowerBound {
                out[out.count - 1] = last.lowerBound..<r.upperBound
            } else {
                out.append(r)
            }
        }
        return out
    }

    private func writeSmallFile(_ bytes: [UInt8], to path: String) throws(MoESlimError) {
        var writer = try SafeTensorsStreamWriter(path: path)
        do throws(MoESlimError) {
            try writer.write(bytes)
            try writer.finish()
        } catch {
            writer.abandon()
            throw error
        }
    }

    /// Copies the bytes the source had when it was opened, so a file that keeps growing cannot keep prune busy.
    private func copyFile(_ source: String, to path: String) throws(MoESlimError) {
        let (fd, size) = try InputFile.open(source, as: .companion)
        defer { close(fd) }
        var left = size
        var writer = try SafeTensorsStreamWriter(path: path)
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { chunk.deallocate() }
        do throws(MoESlimError) {
            while left > 0 {
                let n = read(fd, chunk.baseAddress, min(chunk.count, left))
                if n == 0 { break }
                guard n > 0 else {
                    if errno == EINTR { continue }
                    throw MoESlimError(.io, "cannot read", path: source, cause: POSIXFailure("read"))
                }
                try writer.write(UnsafeRawBufferPointer(rebasing: chunk[..<n]))
                left -= n
            }
            try writer.finish()
        } catch {
            writer.abandon()
            throw error
        }
    }

    private func syncDirectory(_ path: String) throws(MoESlimError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw MoESlimError(.io, "cannot open folder", path: path, cause: POSIXFailure("open")) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw MoESlimError(.io, "fsync failed", path: path, cause: POSIXFailure("fsync")) }
    }

    /// Puts the finished temporary in place. An existing destination (with --force) is swapped out atomically
    /// and only then removed (it is at the temporary's path by then), so there is no moment without a complete
    /// output.
    private func publish(_ temp: Temporary) throws(MoESlimError) {
        if FileSystem.exists(destination) {
            guard force else {
                throw MoESlimError(.outputExists, "output appeared while writing (use --force to replace it)", path: destination)
            }
            if moeslim_rename_exchange(temp.path, destination) == 0 {
                temp.remove()
            } else if rename(temp.path, destination) == 0 {
                temp.published()
            } else {
                throw MoESlimError(.io, "cannot replace the output", path: destination, cause: POSIXFailure("rename"))
            }
        } else if moeslim_rename_noreplace(temp.path, destination) == 0 {
            temp.published()
        } else {
            let failure = POSIXFailure("rename")
            if failure.errno == EEXIST {
                throw MoESlimError(.outputExists, "output appeared while writing", path: destination)
            }
            guard failure.errno == ENOSYS || failure.errno == EINVAL, rename(temp.path, destination) == 0 else {
                throw MoESlimError(.io, "cannot move the output into place", path: destination, cause: failure)
            }
            temp.published()
        }
        try syncDirectory(FileSystem.parent(destination))
    }
}
