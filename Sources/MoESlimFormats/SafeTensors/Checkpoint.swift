import Synchronization
import MoESlimSupport

/// A model on disk: one safetensors file or a folder of shards with model.safetensors.index.json, plus the
/// config.json beside it. Every command takes either shape through this one type.
public final class Checkpoint: @unchecked Sendable {
    public struct Location: Sendable {
        public let shard: Int
        public let info: TensorInfo
    }

    public static let indexName = "model.safetensors.index.json"

    /// The path the user gave (file or folder).
    public let path: String
    /// The folder holding config.json and the shards.
    public let folder: String
    public let isFolder: Bool
    public let shards: [SafeTensorsFile]
    /// Shard file names as they appear in the folder (or the single file's name).
    public let shardNames: [String]
    public let config: JSONValue?
    public let configPath: String
    public let tensorCount: Int

    /// Where each shard's tensors start in `names` order.
    let shardStarts: [Int]
    /// Finds a name among all the shards' tensors (positions in `names`); nil for a single file, whose header's
    /// own index answers.
    let nameIndex: NameIndex?
    private let nameCache = Mutex<[String]?>(nil)

    /// Tensor names in shard order, then data order: the order a faithful rewrite keeps. Made on first use and
    /// kept: `report` and `inspect` read names as bytes and never need 90,000 Strings.
    public var names: [String] {
        nameCache.withLock { cached in
            if let cached { return cached }
            let made = shards.flatMap(\.header.names)
            cached = made
            return made
        }
    }

    /// `configPath` overrides where config.json is read from (a single file being written beside its config).
    public init(path: String, configPath: String? = nil) throws(MoESlimError) {
        self.path = path
        if FileSystem.isDirectory(path) {
            isFolder = true
            folder = path
            let indexPath = FileSystem.join(path, Self.indexName)
            if FileSystem.exists(indexPath) {
                (shardNames, shards, shardStarts, nameIndex) = try Self.openIndexed(folder: path, indexPath: indexPath)
            } else {
                let single = FileSystem.join(path, "model.safetensors")
                guard FileSystem.exists(single) else {
                    throw MoESlimError(.io, "folder has neither \(Self.indexName) nor model.safetensors", path: path)
                }
                (shardNames, shards, shardStarts, nameIndex) = try Self.openSingle(single, name: "model.safetensors")
            }
        } else {
            guard FileSystem.exists(path) else { throw MoESlimError(.io, "no such file or folder", path: path) }
            guard path.hasSuffix(".safetensors") else {
                throw MoESlimError(.invalidArgument, "expected a .safetensors file or a model folder", path: path)
            }
            isFolder = false
            folder = FileSystem.parent(path)
            let name = String(path.split(separator: "/").last ?? Substring(path))
            (shardNames, shards, shardStarts, nameIndex) = try Self.openSingle(path, name: name)
        }
        tensorCount = shards.reduce(0) { $0 + $1.header.count }
        self.configPath = configPath ?? FileSystem.join(folder, "config.json")
        config = FileSystem.exists(self.configPath) ? try InputFile.readJSON(self.configPath, as: .config) : nil
    }

    public func location(of name: String) -> Location? {
        guard let i = index(of: name) else { return nil }
        let (shard, row) = place(i)
        return Location(shard: shard, info: shards[shard].header.table.info(at: row))
    }

    public func info(_ name: String) -> TensorInfo? { location(of: name)?.info }

    public func contains(_ name: String) -> Bool { index(of: name) != nil }

    public func bytes(of name: String) -> UnsafeRawBufferPointer? {
        guard let loc = location(of: name) else { return nil }
        return shards[loc.shard].bytes(of: loc.info)
    }

    public var totalBytes: Int { shards.reduce(0) { $0 + $1.header.dataLength } }

    /// The config or a clear error: commands that need to know the architecture cannot guess it.
    public func requireConfig() throws(MoESlimError) -> JSONValue {
        guard let config else { throw MoESlimError(.invalidConfig, "config.json is missing", path: configPath) }
        guard config.objectMembers != nil else {
            throw MoESlimError(.invalidConfig, "config.json is not a JSON object", path: configPath)
        }
        return config
    }

    /// Shard names, shards, where each shard's tensors start, and the index across shards.
    typealias Opened = ([String], [SafeTensorsFile], [Int], NameIndex?)

    private static func openSingle(_ file: String, name: String) throws(MoESlimError) -> Opened {
        ([name], [try SafeTensorsFile(path: file)], [0], nil)
    }

    /// Shard names are untrusted: a weight_map may only name plain .safetensors files inside the folder. Checked
    /// byte by byte: to Character comparison "/" followed by a combining mark is one grapheme and not a "/",
    /// while the file system sees a slash.
    package static func validateShardName(_ name: String, indexPath: String) throws(MoESlimError) {
        let ok = !name.isEmpty && !name.containsByte("/") && !name.containsByte("\\") && !name.containsByte("\0")
            && !name.hasBytePrefix(".") && name.hasByteSuffix(".safetensors")
        guard ok else {
            throw MoESlimError(.invalidIndex, "weight_map names shard '\(name)', which is not a .safetensors file inside the model folder", path: indexPath)
        }
    }
}
