import Foundation
import MoESlimSupport
import MoESlimText

/// The tokenizer a command uses: --tokenizer, else the model folder's tokenizer.json. A SentencePiece
/// `tokenizer.model` (the only tokenizer file of many older checkpoints) is not read; the user is told how
/// transformers writes the tokenizer.json moe-slim reads.
enum TokenizerLookup {
    static func load(given: String?, folder: String) throws(MoESlimError) -> Tokenizer? {
        if let given {
            if given.hasSuffix(".model") { throw sentencePiece(given, folder: FileSystemPath.parent(given)) }
            return try Tokenizer(path: given)
        }
        let beside = folder + "/tokenizer.json"
        return FileManager.default.fileExists(atPath: beside) ? try Tokenizer(path: beside) : nil
    }

    /// What to add to "text record needs a tokenizer" when the folder has only tokenizer.model.
    static func hint(given: String?, folder: String) -> String? {
        guard given == nil, !FileManager.default.fileExists(atPath: folder + "/tokenizer.json"),
            FileManager.default.fileExists(atPath: folder + "/tokenizer.model")
        else { return nil }
        return sentencePiece(folder + "/tokenizer.model", folder: folder).description
    }

    private static func sentencePiece(_ path: String, folder: String) -> MoESlimError {
        let quoted = "'" + folder.replacingOccurrences(of: "'", with: "'\\''") + "'"
        return MoESlimError(
            .invalidTokenizer,
            "is a SentencePiece tokenizer.model; moe-slim reads tokenizer.json. Write one beside it with transformers "
                + "(needs sentencepiece): python -c \"from transformers import AutoTokenizer; AutoTokenizer.from_pretrained(\(quoted)).save_pretrained(\(quoted))\"",
            path: path)
    }
}

/// Parent folders of user-given paths, as the shell would take them.
enum FileSystemPath {
    static func parent(_ path: String) -> String {
        let p = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return p.isEmpty ? "." : p
    }

    static func lastComponent(_ path: String) -> String {
        URL(fileURLWithPath: path).lastPathComponent
    }
}
