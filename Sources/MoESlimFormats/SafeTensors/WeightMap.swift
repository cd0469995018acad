#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MoESlimSupport

/// model.safetensors.index.json's weight_map: which shard each tensor is in. The tensor names stay byte ranges
/// of the file (a DeepSeek-V3 index names 90,000 tensors, and only the ones an error mentions become Strings),
/// hashed with the NameHash header tables use, so either side looks names up in the other without hashing again.
struct WeightMap {
    private struct Entry {
        var start: Int
        var count: Int
        var shard: Int
    }

    /// Shard file names in the order the map first names them; untrusted until validated.
    private(set) var shards: [String] = []
    /// By bytes: two spellings of one shard name that are only canonically equivalent are two files.
    private var shardIDs: [ByteName: Int] = [:]
    /// The bytes entries point into: the index file itself, or the names laid end to end after a strict parse.
    private var storage: ByteRegion
    private var entries: [Entry] = []
    private var hashes: [UInt64] = []
    private var index = NameIndex(distinctHashes: [])

    private init(storage: ByteRegion, expectedCount: Int) {
        self.storage = storage
        entries.reserveCapacity(expectedCount)
        hashes.reserveCapacity(expectedCount)
    }

    var count: Int { entries.count }

    /// Valid while the map lives.
    func nameBytes(at i: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: storage.bytes[entries[i].start ..< entries[i].start + entries[i].count])
    }

    func name(at i: Int) -> String { String(decoding: nameBytes(at: i), as: UTF8.self) }

    func hash(at i: Int) -> UInt64 { hashes[i] }

    /// Index into `shards`.
    func shard(at i: Int) -> Int { entries[i].shard }

    /// The entries of each shard, by index into `shards`, in map order.
    var entriesByShard: [[Int]] {
        var lists = [[Int]](repeating: [], count: shards.count)
        for (i, entry) in entries.enumerated() { lists[entry.shard].append(i) }
        return lists
    }

    /// For a name whose NameHash is known (its shard's header computed it).
    func position(of name: UnsafeRawBufferPointer, hash: UInt64) -> Int? {
        index.find(hash: hash) { nameBytes(at: $0).sameBytes(name) }
    }

    /// Reads the index at `path`, every rule of formats/safetensors.md for it checked in the strict reader's order.
    /// The file is mapped for the fast scan; the strict reader reads it again, within the same size limit.
    static func read(_ path: String) throws(MoESlimError) -> WeightMap {
        let (fd, size) = try InputFile.open(path, as: .index)
        let mapping = size > 0 ? ByteRegion(mapping: fd, size: size, path: path) : nil
        close(fd)
        guard let mapping, let map = Self.scan(mapping) else {
            return try strictRead(InputFile.read(path, as: .index), path: path)
        }
        for shard in map.shards { try Checkpoint.validateShardName(shard, indexPath: path) }
        return map
    }

    /// The whole file read as a JSON tree, for whatever the fast scan would not take: every error comes from here.
    private static func strictRead(_ bytes: [UInt8], path: String) throws(MoESlimError) -> WeightMap {
        let json: JSONValue
        do {
            json = try JSONParser.parse(bytes)
        } catch {
            throw MoESlimError(.invalidIndex, "\(error)", path: path)
        }
        guard json.objectMembers != nil else { throw MoESlimError(.invalidIndex, "index is not a JSON object", path: path) }
        guard let members = json["weight_map"]?.objectMembers else {
            throw MoESlimError(.invalidIndex, "index has no weight_map object", path: path)
        }
        var names: [UInt8] = []
        var map = WeightMap(storage: ByteRegion(copying: UnsafeRawBufferPointer(start: nil, count: 0)), expectedCount: members.count)
        for (tensor, value) in members {
            guard let shard = value.stringValue else {
                throw MoESlimError(.invalidIndex, "weight_map entry is not a string", path: path, tensor: tensor)
            }
            let start = names.count
            let known = map.shards.count
            names.append(contentsOf: tensor.utf8)
            map.append(start: start, count: tensor.utf8.count, hash: NameHash.of(tensor), shard: map.shardID(shard))
            if map.shards.count > known { try Checkpoint.validateShardName(shard, indexPath: path) }
        }
        map.storage = names.withUnsafeBytes { ByteRegion(copying: $0) }
        map.index = NameIndex(distinctHashes: map.hashes)
        return map
    }

    private mutating func append(start: Int, count: Int, hash: UInt64, shard: Int) {
        entries.append(Entry(start: start, count: count, shard: shard))
        hashes.append(hash)
    }

    private mutating func shardID(_ shard: String) -> Int {
        if let known = shardIDs[ByteName(shard)] { return known }
        shards.append(shard)
        shardIDs[ByteName(shard)] = shards.count - 1
        return shards.count - 1
    }

    /// The plain form writers produce (ASCII names and shard names without escapes, no repeated key), read in
    /// place; nil on anything else.
    private static func scan(_ file: ByteRegion) -> WeightMap? {
        var map = WeightMap(storage: file, expectedCount: file.bytes.count / 80)
        let found = { (bytes: UnsafeRawBufferPointer) -> Bool? in
            var s = PlainJSONScanner(bytes)
            var keys: [ByteName] = []
            var sawMap = false
            guard s.take(UInt8(ascii: "{")) else { return nil }
            s.skipWhitespace()
            if s.current == UInt8(ascii: "}") { s.pos += 1; return false }
            while true {
                guard let key = s.plainString(), s.take(UInt8(ascii: ":")) else { return nil }
                let text = ByteName(String(decoding: key, as: UTF8.self))
                guard !keys.contains(text) else { return nil }
                keys.append(text)
                if key.spells("weight_map") {
                    guard map.scanEntries(&s) else { return nil }
                    sawMap = true
                } else if s.strictValue(depth: 1) == nil {
                    return nil
                }
                guard let closed = s.closes(UInt8(ascii: "}")) else { return nil }
                if closed { break }
            }
            s.skipWhitespace()
            return s.atEnd ? sawMap : nil
        }(file.bytes)
        guard found == true else { return nil }
        let (bytes, entries) = (file.bytes, map.entries)
        let repeated = NameIndex(hashes: map.hashes) { a, b in
            UnsafeRawBufferPointer(rebasing: bytes[entries[a].start ..< entries[a].start + entries[a].count])
                .sameBytes(UnsafeRawBufferPointer(rebasing: bytes[entries[b].start ..< entries[b].start + entries[b].count]))
        }
        guard let index = repeated else { return nil }
        map.index = index
        return map
    }

    private mutating func scanEntries(_ s: inout PlainJSONScanner) -> Bool {
        guard s.take(UInt8(ascii: "{")), let base = s.bytes.baseAddress else { return false }
        s.skipWhitespace()
        if s.current == UInt8(ascii: "}") { s.pos += 1; return true }
        var lastShard: (bytes: UnsafeRawBufferPointer, id: Int)?
        while true {
            guard let name = s.plainString(), s.take(UInt8(ascii: ":")), let shard = s.plainString() else { return false }
            let id: Int
            if let last = lastShard, last.bytes.sameBytes(shard) {
                id = last.id
            } else {
                id = shardID(String(decoding: shard, as: UTF8.self))
                lastShard = (shard, id)
            }
            append(start: name.baseAddress! - base, count: name.count, hash: NameHash.of(name), shard: id)
            guard let closed = s.closes(UInt8(ascii: "}")) else { return false }
            if closed { return true }
        }
    }
}
