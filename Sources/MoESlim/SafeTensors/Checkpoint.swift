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
    /// Tensor names in shard order, then data order: the order a faithful rewrite keeps.
    public let names: [String]
    public let config: JSONValue?
    public let configPath: String

    /// Which shard holds each tensor; nil for a single file, whose header answers directly (saves hashing
    /// every name twice on 100,000-tensor headers).
    private let shardOf: [String: Int]?

    /// `configPath` overrides where config.json is read from (a single file being written beside its config).
    public init(path: String, configPath: String? = nil) throws(MoESlimError) {
        self.path = path
        if FileSystem.isDirectory(path) {
            isFolder = true
            folder = path
            let indexPath = FileSystem.join(path, Self.indexName)
            if FileSystem.exists(indexPath) {
                (shardNames, shards, names, shardOf) = try Self.openIndexed(folder: path, indexPath: indexPath)
            } else {
                let single = FileSystem.join(path, "model.safetensors")
                guard FileSystem.exists(single) else {
                    throw MoESlimError(.io, "folder has neither \(Self.indexName) nor model.safetensors", path: path)
                }
                (shardNames, shards, names, shardOf) = try Self.openSingle(single, name: "model.safetensors")
            }
        } else {
            guard FileSystem.exists(path) else { throw MoESlimError(.io, "no such file or folder", path: path) }
            guard path.hasSuffix(".safetensors") else {
                throw MoESlimError(.invalidArgument, "expected a .safetensors file or a model folder", path: path)
            }
            isFolder = false
            folder = FileSystem.parent(path)
            let name = String(path.split(separator: "/").last ?? Substring(path))
            (shardNames, shards, names, shardOf) = try Self.openSingle(path, name: name)
        }
        self.configPath = configPath ?? FileSystem.join(folder, "config.json")
        config = FileSystem.exists(self.configPath) ? try FileSystem.readJSON(self.configPath, code: .invalidConfig) : nil
    }

    public func location(of name: String) -> Location? {
        let shard = shardOf.map { $0[name] } ?? 0
        guard let shard, let info = shards[shard].header.tensor(named: name) else { return nil }
        return Location(shard: shard, info: info)
    }

    public func info(_ name: String) -> TensorInfo? { location(of: name)?.info }

    public func contains(_ name: String) -> Bool { location(of: name) != nil }

    public func bytes(of name: String) -> UnsafeRawBufferPointer? {
        guard let loc = location(of: name) else { return nil }
        return shards[loc.shard].bytes(of: loc.info)
    }

    public var tensorCount: Int { names.count }

    public var totalBytes: Int { shards.reduce(0) { $0 + $1.header.dataLength } }

    /// The config or a clear error: commands that need to know the architecture cannot guess it.
    public func requireConfig() throws(MoESlimError) -> JSONValue {
        guard let config else { throw MoESlimError(.invalidConfig, "config.json is missing", path: configPath) }
        guard config.objectMembers != nil else {
            throw MoESlimError(.invalidConfig, "config.json is not a JSON object", path: configPath)
        }
        return config
    }

    private typealias Opened = ([String], [SafeTensorsFile], [String], [String: Int]?)

    private static func openSingle(_ file: String, name: String) throws(MoESlimError) -> Opened {
        let st = try SafeTensorsFile(path: file)
        return ([name], [st], st.header.names, nil)
    }

    /// Shard names are untrusted: a weight_map may only name plain .safetensors files inside the folder.
    static func validateShardName(_ name: String, indexPath: String) throws(MoESlimError) {
        let ok = !name.isEmpty && !name.contains("/") && !name.contains("\\") && name != "." && name != ".."
            && !name.hasPrefix(".") && name.hasSuffix(".safetensors") && !name.contains("\0")
        guard ok else {
            throw MoESlimError(.invalidIndex, "weight_map names shard '\(name)', which is not a .safetensors file inside the model folder", path: indexPath)
        }
    }

    private static func openIndexed(folder: String, indexPath: String) throws(MoESlimError) -> Opened {
        let index = try FileSystem.readJSON(indexPath, code: .invalidIndex)
        guard index.objectMembers != nil else { throw MoESlimError(.invalidIndex, "index is not a JSON object", path: indexPath) }
        guard let map = index["weight_map"]?.objectMembers else {
            throw MoESlimError(.invalidIndex, "index has no weight_map object", path: indexPath)
        }
        var shardOrder: [String] = []
        var seenShards = Set<String>()
        var shardOf: [String: String] = [:]
        for (tensor, value) in map {
            guard let shard = value.stringValue else {
                throw MoESlimError(.invalidIndex, "weight_map entry is not a string", path: indexPath, tensor: tensor)
            }
            if seenShards.insert(shard).inserted {
                try validateShardName(shard, indexPath: indexPath)
                shardOrder.append(shard)
            }
            shardOf[tensor] = shard
        }
        shardOrder.sort()
        var files: [SafeTensorsFile] = []
        var locations: [String: Int] = [:]
        var names: [String] = []
        for (i, shard) in shardOrder.enumerated() {
            let shardPath = FileSystem.join(folder, shard)
            guard FileSystem.exists(shardPath) else {
                throw MoESlimError(.invalidIndex, "weight_map names shard '\(shard)', which is missing", path: indexPath)
            }
            let st = try SafeTensorsFile(path: shardPath)
            for t in st.header.tensors {
                if locations[t.name] != nil {
                    throw MoESlimError(.invalidIndex, "tensor appears in more than one shard", path: shardPath, tensor: t.name)
                }
                guard shardOf[t.name] == shard else {
                    let claim = shardOf[t.name].map { "weight_map places it in '\($0)'" } ?? "weight_map does not list it"
                    throw MoESlimError(.invalidIndex, "tensor is in this shard but \(claim)", path: shardPath, tensor: t.name)
                }
                locations[t.name] = i
                names.append(t.name)
            }
            files.append(st)
        }
        for (tensor, shard) in shardOf where locations[tensor] == nil {
            throw MoESlimError(.invalidIndex, "weight_map places the tensor in '\(shard)', which does not contain it", path: indexPath, tensor: tensor)
        }
        return (shardOrder, files, names, locations)
    }
}
