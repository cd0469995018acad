import CZstd
import MoESlimSupport

/// A tokenizer.json loaded for encoding: the same ids as `Tokenizer.from_file(path).encode(text).ids` in
/// Hugging Face `tokenizers`, for the components listed in formats/tokenizer.md. Anything else in the file is
/// refused by name at load time rather than approximated. Not thread-safe: the BPE word cache is mutable.
public final class Tokenizer {
    let normalizer: Normalizer?
    let preTokenizer: PreTokenizer?
    let model: BPEModel
    let addedTokens: AddedTokens
    let postProcessor: PostProcessor?

    /// Reads tokenizer.json, or tokenizer.json.zst; either way at most InputLimits.tokenizerBytes of JSON.
    public convenience init(path: String) throws(MoESlimError) {
        let limit = InputLimits.tokenizerBytes
        guard let bytes = try ByteStream.readAll(path, kind: .tokenizer, limit: limit) else {
            throw MoESlimError(.invalidTokenizer, "decompresses to more than the \(ByteSize(limit)) limit for a tokenizer", path: path)
        }
        try self.init(bytes: bytes, path: path)
    }

    public init(bytes: [UInt8], path: String) throws(MoESlimError) {
        let document: JSONCDocument
        switch JSONCDocument.parse(bytes) {
        case .success(let parsed): document = parsed
        case .failure(let failure): throw MoESlimError(.invalidTokenizer, "invalid JSON: \(failure)", path: path)
        }
        let root = document.root
        do throws(TokenizerLoadError) {
            for key in ["truncation", "padding"] where !(root[key]?.isNull ?? true) {
                throw TokenizerLoadError("'\(key)' is set; encode would truncate or pad, which moe-slim does not do")
            }
            guard let modelNode = root["model"] else { throw TokenizerLoadError("no 'model'") }
            let normalizer = try root["normalizer"].map(Normalizer.parse) ?? nil
            self.normalizer = normalizer
            preTokenizer = try root["pre_tokenizer"].map(PreTokenizer.parse) ?? nil
            model = try BPEModel(modelNode)
            addedTokens = try AddedTokens(root["added_tokens"], vocab: model.vocab, normalizer: normalizer)
            postProcessor = try root["post_processor"].map(PostProcessor.parse) ?? nil
        } catch {
            throw MoESlimError(.invalidTokenizer, error.description, path: path)
        }
    }

    public func encode(_ text: String) throws(TokenizerEncodeError) -> [Int32] {
        try encode(bytes: Array(text.utf8))
    }

    /// `bytes` must be valid UTF-8 (readers validate it). lm-evaluation-harness encodes choices without
    /// special tokens, hence `addSpecialTokens`.
    public func encode(bytes: [UInt8], addSpecialTokens: Bool = true) throws(TokenizerEncodeError) -> [Int32] {
        do throws(TokenizerLimitExceeded) {
            return try encodeOrGiveUp(bytes: bytes, addSpecialTokens: addSpecialTokens)
        } catch {
            throw TokenizerEncodeError(description: error.description)
        }
    }

    private func encodeOrGiveUp(bytes: [UInt8], addSpecialTokens: Bool) throws(TokenizerLimitExceeded) -> [Int32] {
        var raw: [TextPiece] = []
        addedTokens.split(TextPiece(bytes: bytes, token: nil, atOrigin: true), normalized: false, into: &raw)
        var pieces: [TextPiece] = []
        pieces.reserveCapacity(raw.count)
        let growthLimit = Normalizer.growthLimit(record: bytes.count)
        var normalizedBudget = growthLimit
        for var piece in raw {
            if piece.token != nil {
                pieces.append(piece)
                continue
            }
            if let normalizer { piece.bytes = try normalizer.apply(piece.bytes, budget: &normalizedBudget, limit: growthLimit) }
            addedTokens.split(piece, normalized: true, into: &pieces)
        }
        if let preTokenizer { pieces = try preTokenizer.apply(pieces) }
        var ids: [Int32] = []
        ids.reserveCapacity(bytes.count / 3 + 4)
        for piece in pieces {
            if let token = piece.token { ids.append(token) } else { model.tokenize(piece.bytes, into: &ids) }
        }
        guard addSpecialTokens, let postProcessor else { return ids }
        return postProcessor.apply(ids)
    }
}

/// A text the tokenizer gave up on: one of its regexes backtracks without end on it (RegexLimits).
public struct TokenizerEncodeError: Error, CustomStringConvertible {
    public let description: String
}

/// A load problem inside tokenizer.json; turned into a MoESlimError naming the file.
struct TokenizerLoadError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
