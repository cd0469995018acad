/// The BPE model of `tokenizers` (models/bpe): a word starts as one symbol per scalar and adjacent pairs are
/// merged lowest rank first, leftmost first among equal ranks, exactly like its priority-queue `merge_all`.
/// Vocabulary keys are bytes so canonically equivalent spellings stay distinct tokens.
final class BPEModel {
    let vocab: [[UInt8]: Int32]
    private let merges: [UInt64: UInt64]
    private let scalarIDs: [UInt32: Int32]
    private let byteFallbackIDs: [Int32]?
    private let unkID: Int32?
    private let fuseUnk: Bool
    private let prefix: [UInt8]?
    private let suffix: [UInt8]?
    private let ignoreMerges: Bool
    private var cache: [[UInt8]: [Int32]] = [:]

    private static let cacheCapacity = 100_000
    private static let cacheMaxWordBytes = 256

    init(_ node: JSONCNode) throws(TokenizerLoadError) {
        if let type = node["type"]?.string, type != "BPE" {
            throw TokenizerLoadError("unsupported model '\(type)' (only BPE is implemented)")
        }
        guard node["type"] != nil || node["merges"] != nil else {
            throw TokenizerLoadError("model without a type")
        }
        if let dropout = node["dropout"], !dropout.isNull {
            throw TokenizerLoadError("BPE dropout is random at encode time; refusing a tokenizer with dropout")
        }
        guard let vocabMembers = node["vocab"]?.members else { throw TokenizerLoadError("BPE without 'vocab'") }
        var vocab: [[UInt8]: Int32] = [:]
        vocab.reserveCapacity(vocabMembers.count)
        for (key, value) in vocabMembers {
            guard let id = value.int, id >= 0, id <= Int(Int32.max) else {
                throw TokenizerLoadError("vocab entry \(quoted(String(decoding: key, as: UTF8.self))) has no valid id")
            }
            vocab[key] = Int32(id)
        }
        self.vocab = vocab

        prefix = node["continuing_subword_prefix"]?.bytes
        suffix = node["end_of_word_suffix"]?.bytes
        fuseUnk = node["fuse_unk"]?.bool ?? false
        ignoreMerges = node["ignore_merges"]?.bool ?? false
        if let unk = node["unk_token"]?.bytes {
            guard let id = vocab[unk] else {
                throw TokenizerLoadError("unk_token \(quoted(String(decoding: unk, as: UTF8.self))) is not in the vocab")
            }
            unkID = id
        } else {
            unkID = nil
        }
        if node["byte_fallback"]?.bool ?? false {
            byteFallbackIDs = (0..<256).map { b in vocab[Array(Self.byteToken(UInt8(b)).utf8)] ?? -1 }
        } else {
            byteFallbackIDs = nil
        }
        var scalarIDs: [UInt32: Int32] = [:]
        for (key, id) in vocab where !key.isEmpty && UTF8Bytes.length(lead: key[0]) == key.count {
            scalarIDs[DecodedScalars(key).scalars[0]] = id
        }
        self.scalarIDs = scalarIDs
        merges = try Self.parseMerges(node["merges"], vocab: vocab, prefixLength: prefix?.count ?? 0)
    }

    static func byteToken(_ b: UInt8) -> String {
        let hex = String(b, radix: 16, uppercase: true)
        return "<0x" + (hex.count == 1 ? "0" + hex : hex) + ">"
    }

    /// Merges come either as "a b" strings (split at the first space) or as ["a", "b"] pairs. Rank is the line
    /// number; a repeated pair keeps its last rank, as `tokenizers`' map collection does.
    private static func parseMerges(
        _ node: JSONCNode?, vocab: [[UInt8]: Int32], prefixLength: Int
    ) throws(TokenizerLoadError) -> [UInt64: UInt64] {
        guard let lines = node?.array else { throw TokenizerLoadError("BPE without 'merges'") }
        var merges: [UInt64: UInt64] = [:]
        merges.reserveCapacity(lines.count)
        for (rank, line) in lines.enumerated() {
            let left: [UInt8]
            let right: [UInt8]
            if let text = line.bytes {
                guard let space = text.firstIndex(of: 0x20) else {
                    throw TokenizerLoadError("merge \(rank) has no space: \(quoted(String(decoding: text, as: UTF8.self)))")
                }
                left = Array(text[..<space])
                right = Array(text[(space + 1)...])
            } else if let pair = line.array, pair.count == 2, let a = pair[0].bytes, let b = pair[1].bytes {
                left = a
                right = b
            } else {
                throw TokenizerLoadError("merge \(rank) is neither \"a b\" nor [\"a\", \"b\"]")
            }
            let merged = left + right.dropFirst(min(prefixLength, right.count))
            guard let a = vocab[left], let b = vocab[right], let m = vocab[merged] else {
                let text = String(decoding: left, as: UTF8.self) + " " + String(decoding: right, as: UTF8.self)
                throw TokenizerLoadError("merge \(rank) \(quoted(text)) uses a token missing from the vocab")
            }
            merges[pairKey(a, b)] = UInt64(rank) << 32 | UInt64(UInt32(m))
        }
        return merges
    }

    @inline(__always)
    private static func pairKey(_ a: Int32, _ b: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
    }

    func tokenize(_ word: [UInt8], into out: inout [Int32]) {
        if word.isEmpty { return }
        if ignoreMerges, let id = vocab[word] {
            out.append(id)
            return
        }
        if let hit = cache[word] {
            out.append(contentsOf: hit)
            return
        }
        let ids = merge(initialSymbols(word))
        if word.count < Self.cacheMaxWordBytes && cache.count < Self.cacheCapacity { cache[word] = ids }
        out.append(contentsOf: ids)
    }

    /// `merge_word`: one symbol per scalar, byte fallback tokens for scalars missing from the vocab, and unknown
    /// scalars as unk (fused when asked). A pending unk is deliberately not flushed before byte-fallback symbols,
    /// matching the reference's order.
    private func initialSymbols(_ word: [UInt8]) -> [Int32] {
        var symbols: [Int32] = []
        symbols.reserveCapacity(word.count)
        var pendingUnk = false
        var i = 0
        while i < word.count {
            let length = UTF8Bytes.length(lead: word[i])
            let end = i + length
            var id: Int32?
            var piece = word[i..<end]
            if prefix == nil && suffix == nil {
                id = lookupScalar(word, i, length)
            } else {
                var affixed = Array(piece)
                if i > 0, let prefix { affixed = prefix + affixed }
                if end == word.count, let suffix { affixed += suffix }
                piece = affixed[...]
                id = vocab[affixed]
            }
            if let id {
                if pendingUnk, let unkID { symbols.append(unkID); pendingUnk = false }
                symbols.append(id)
            } else if let fallback = byteFallbackIDs, piece.allSatisfy({ fallback[Int($0)] >= 0 }) {
                for b in piece { symbols.append(fallback[Int(b)]) }
            } else if let unkID {
                if pendingUnk && !fuseUnk { symbols.append(unkID) }
                pendingUnk = true
            }
            i = end
        }
        if pendingUnk, let unkID { symbols.append(unkID) }
        return symbols
    }

    @inline(__always)
    private func lookupScalar(_ word: [UInt8], _ i: Int, _ length: Int) -> Int32? {
        var v = UInt32(word[i])
        switch length {
        case 1: break
        case 2: v = (v & 0x1F) << 6 | UInt32(word[i + 1] & 0x3F)
        case 3: v = (v & 0x0F) << 12 | UInt32(word[i + 1] & 0x3F) << 6 | UInt32(word[i + 2] & 0x3F)
        default:
            v = (v & 0x07) << 18 | UInt32(word[i + 1] & 0x3F) << 12 | UInt32(word[i + 2] & 0x3F) << 6
                | UInt32(word[i + 3] & 0x3F)
        }
        return scalarIDs[v]
    }

    /// Priority-queue merging over a linked list of symbols; stale queue entries are skipped when the pair at
    /// their position no longer merges into the recorded id.
    private func merge(_ initial: [Int32]) -> [Int32] {
        let n = initial.count
        if n < 2 { return initial }
        var ids = initial
        var prev = Array(-1..<(n - 1))
        var next = Array(1...n)
        next[n - 1] = -1
        var alive = [Bool](repeating: true, count: n)
        var heap = MergeHeap()
        for p in 0..<(n - 1) {
            if let m = merges[Self.pairKey(ids[p], ids[p + 1])] { heap.push(rank: UInt32(m >> 32), pos: p, id: Int32(truncatingIfNeeded: m)) }
        }
        while let top = heap.pop() {
            let p = top.pos
            guard alive[p], next[p] != -1 else { continue }
            let q = next[p]
            guard let m = merges[Self.pairKey(ids[p], ids[q])], Int32(truncatingIfNeeded: m) == top.id else { continue }
            ids[p] = top.id
            alive[q] = false
            next[p] = next[q]
            if next[q] != -1 { prev[next[q]] = p }
            if prev[p] >= 0, let m = merges[Self.pairKey(ids[prev[p]], ids[p])] {
                heap.push(rank: UInt32(m >> 32), pos: prev[p], id: Int32(truncatingIfNeeded: m))
            }
            if next[p] != -1, let m = merges[Self.pairKey(ids[p], ids[next[p]])] {
                heap.push(rank: UInt32(m >> 32), pos: p, id: Int32(truncatingIfNeeded: m))
            }
        }
        var result: [Int32] = []
        var p = 0
        while p != -1 {
            result.append(ids[p])
            p = next[p]
        }
        return result
    }
}

/// Binary min-heap on (rank, position).
private struct MergeHeap {
    struct Entry {
        var rank: UInt32
        var pos: Int
        var id: Int32
        @inline(__always)
        func less(_ o: Entry) -> Bool { rank != o.rank ? rank < o.rank : pos < o.pos }
    }

    private var items: [Entry] = []

    mutating func push(rank: UInt32, pos: Int, id: Int32) {
        items.append(Entry(rank: rank, pos: pos, id: id))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[i].less(items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Entry? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1
                let r = l + 1
                var smallest = i
                if l < items.count && items[l].less(items[smallest]) { smallest = l }
                if r < items.count && items[r].less(items[smallest]) { smallest = r }
                if smallest == i { break }
                items.swapAt(i, smallest)
                i = smallest
            }
        }
        return top
    }
}
