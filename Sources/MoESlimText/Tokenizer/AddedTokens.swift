/// The `added_tokens` section (`AddedVocabulary` in `tokenizers`). Tokens with `normalized: false` are found in
/// the raw text before normalization; the others are found in the normalized pieces, by their normalized form.
/// Matching is leftmost-longest on bytes, like the reference's Aho-Corasick automaton.
struct AddedTokens {
    struct Token {
        var content: [UInt8]
        var id: Int32
        var singleWord: Bool
        var lstrip: Bool
        var rstrip: Bool
        var normalized: Bool
    }

    let tokens: [Token]
    private let rawTrie: TokenTrie
    private let normalizedTrie: TokenTrie

    init(_ node: JSONCNode?, vocab: [[UInt8]: Int32], normalizer: Normalizer?) throws(TokenizerLoadError) {
        var tokens: [Token] = []
        for item in node?.array ?? [] {
            guard let content = item["content"]?.bytes, let fileID = item["id"]?.int, fileID >= 0,
                fileID <= Int(Int32.max)
            else {
                throw TokenizerLoadError("added token without 'content' and a valid 'id'")
            }
            let special = item["special"]?.bool ?? false
            if content.isEmpty { continue }
            // An added token that is also in the model vocabulary keeps the model's id, as in add_tokens.
            tokens.append(Token(
                content: content, id: vocab[content] ?? Int32(fileID),
                singleWord: item["single_word"]?.bool ?? false, lstrip: item["lstrip"]?.bool ?? false,
                rstrip: item["rstrip"]?.bool ?? false, normalized: item["normalized"]?.bool ?? !special))
        }
        self.tokens = tokens
        var raw = TokenTrie()
        var normalizedTrie = TokenTrie()
        for (index, token) in tokens.enumerated() {
            if token.normalized {
                do throws(TokenizerLimitExceeded) {
                    var budget = Normalizer.growthLimit(record: token.content.count)
                    let limit = budget
                    normalizedTrie.insert(try normalizer?.apply(token.content, budget: &budget, limit: limit) ?? token.content, index)
                } catch {
                    throw TokenizerLoadError("added token \(quoted(String(decoding: token.content, as: UTF8.self))): \(error)")
                }
            } else {
                raw.insert(token.content, index)
            }
        }
        self.rawTrie = raw
        self.normalizedTrie = normalizedTrie
    }

    /// Cuts every piece that is not yet a token around the added tokens found in it (`find_matches`).
    func split(_ piece: TextPiece, normalized: Bool, into out: inout [TextPiece]) {
        let trie = normalized ? normalizedTrie : rawTrie
        let text = piece.bytes
        func emit(_ range: Range<Int>, _ token: Int32?) {
            guard !range.isEmpty else { return }
            out.append(TextPiece(
                bytes: Array(text[range]), token: token, atOrigin: piece.atOrigin && range.lowerBound == 0))
        }
        if trie.isEmpty {
            emit(0..<text.count, nil)
            return
        }
        var startOffset = 0
        var i = 0
        while i < text.count {
            guard let (index, end) = trie.longestMatch(in: text, at: i) else {
                i += 1
                continue
            }
            i = end
            let token = tokens[index]
            var start = end - (trie.length(of: index))
            var stop = end
            if token.singleWord {
                let startSpace = start == 0 || !Self.endsWithWord(text[..<start])
                let stopSpace = stop == text.count || !Self.startsWithWord(text[stop...])
                if !startSpace || !stopSpace { continue }
            }
            if token.lstrip {
                start = max(Self.trailingWhitespaceStart(text[..<start]), startOffset)
            }
            if token.rstrip {
                stop = Self.leadingWhitespaceEnd(text, from: stop)
            }
            if startOffset < start { emit(startOffset..<start, nil) }
            emit(start..<stop, token.id)
            startOffset = stop
        }
        if startOffset < text.count { emit(startOffset..<text.count, nil) }
    }

    private static func endsWithWord(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let last = DecodedScalars(Array(bytes)).scalars.last else { return false }
        return UnicodeScalarClass.isWord(last)
    }

    private static func startsWithWord(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let first = bytes.first else { return false }
        let length = UTF8Bytes.length(lead: first)
        return UnicodeScalarClass.isWord(DecodedScalars(Array(bytes.prefix(length))).scalars[0])
    }

    private static func trailingWhitespaceStart(_ bytes: ArraySlice<UInt8>) -> Int {
        let decoded = DecodedScalars(Array(bytes))
        var i = decoded.scalars.count
        while i > 0 && UnicodeScalarClass.isWhitespace(decoded.scalars[i - 1]) { i -= 1 }
        return bytes.startIndex + decoded.offsets[i]
    }

    private static func leadingWhitespaceEnd(_ text: [UInt8], from start: Int) -> Int {
        var i = start
        while i < text.count {
            let length = UTF8Bytes.length(lead: text[i])
            let v = DecodedScalars(Array(text[i..<min(i + length, text.count)])).scalars[0]
            guard UnicodeScalarClass.isWhitespace(v) else { break }
            i += length
        }
        return i
    }
}

/// A byte trie over added-token contents, for leftmost-longest matching.
struct TokenTrie {
    private var children: [[UInt8: Int32]] = [[:]]
    private var terminal: [Int32] = [-1]
    private var lengths: [Int: Int] = [:]
    private var firstBytes = [Bool](repeating: false, count: 256)

    var isEmpty: Bool { lengths.isEmpty }

    mutating func insert(_ bytes: [UInt8], _ index: Int) {
        guard !bytes.isEmpty else { return }
        var node = 0
        for b in bytes {
            if let child = children[node][b] {
                node = Int(child)
            } else {
                children.append([:])
                terminal.append(-1)
                children[node][b] = Int32(children.count - 1)
                node = children.count - 1
            }
        }
        terminal[node] = Int32(index)
        lengths[index] = bytes.count
        firstBytes[Int(bytes[0])] = true
    }

    func length(of index: Int) -> Int { lengths[index]! }

    /// The longest token starting at `start`: its index and end offset.
    @inline(__always)
    func longestMatch(in text: [UInt8], at start: Int) -> (Int, Int)? {
        guard firstBytes[Int(text[start])] else { return nil }
        var node = 0
        var best: (Int, Int)?
        var i = start
        while i < text.count, let child = children[node][text[i]] {
            node = Int(child)
            i += 1
            if terminal[node] >= 0 { best = (Int(terminal[node]), i) }
        }
        return best
    }
}
