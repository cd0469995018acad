import MoESlimSupport
import MoESlimFormats

/// How a pruned GGUF is cut into parts. llama.cpp loads a split model from `<prefix>-00001-of-<n>.gguf`; the
/// first part holds the metadata, every part `split.no` (uint16, from 0), `split.count` (uint16) and
/// `split.tensors.count` (int32), appended after the other entries, as gguf-py's writer
/// (`GGUFWriter.add_shard_kv_data`) and llama-gguf-split write them.
public enum GGUFSplit: Sendable, Equatable {
    /// Every tensor in the part of the input that holds it: a split input gives a split with the same tensors
    /// per part, one file gives one file.
    case keepInput
    /// gguf-py's rule (`GGUFWriter.add_tensor_info`, convert_hf_to_gguf.py `--split-max-tensors`,
    /// `--split-max-size`): a tensor opens a new part when the current part is not empty and already holds
    /// `tensors` tensors, or its tensors' bytes (unpadded) plus this one's would pass `bytes`; 0 is no limit.
    case limits(tensors: Int, bytes: Int)

    /// The tensors of each part, as ranges of `tensors`' indices (in input order, each with the input part that
    /// holds it, of `inputParts`). The limits never make an empty part; the input's parts are kept as they are,
    /// a first part of metadata only (llama-gguf-split --no-tensor-first-split) too.
    func parts(_ tensors: [(inputPart: Int, bytes: Int)], inputParts: Int) -> [Range<Int>] {
        switch self {
        case .keepInput:
            var ranges: [Range<Int>] = [], end = 0
            for part in 0..<inputParts {
                let start = end
                while end < tensors.count && tensors[end].inputPart == part { end += 1 }
                ranges.append(start..<end)
            }
            return ranges
        case .limits(let maxTensors, let maxBytes):
            guard !tensors.isEmpty else { return [0..<0] }
            var starts: [Int] = [], count = 0, bytes = 0
            for (i, t) in tensors.enumerated() {
                let full = maxTensors > 0 && count >= maxTensors
                let large = maxBytes > 0 && bytes + t.bytes > maxBytes
                if i == 0 || (count > 0 && (full || large)) {
                    starts.append(i)
                    count = 0
                    bytes = 0
                }
                count += 1
                bytes += t.bytes
            }
            return starts.indices.map { starts[$0]..<(($0 + 1 < starts.count) ? starts[$0 + 1] : tensors.count) }
        }
    }

    /// The file names of a `count`-part output named `destination`: `destination` itself for one part; for
    /// more, gguf-py's `<stem>-<i>-of-<n>.gguf` from `<stem>.gguf`, or the parts of a destination that already
    /// names a part of an `n`-part split, as llama.cpp's tools name them.
    public static func paths(_ destination: String, count: Int) throws(MoESlimError) -> [String] {
        guard destination.hasByteSuffix(".gguf") else {
            throw MoESlimError(.invalidArgument, "the input is a GGUF, so the output must be a .gguf file too", path: destination)
        }
        let named = try GGUFModel.partPaths(of: destination)
        if count == 1 {
            guard named.count == 1 else {
                throw MoESlimError(.invalidArgument, "the output is one file; a name ending in -NNNNN-of-NNNNN.gguf would read as a part of a split model", path: destination)
            }
            return [destination]
        }
        guard count <= Int(UInt16.max) else {
            throw MoESlimError(.invalidArgument, "the output would have \(count) parts, more than split.count (a uint16) can say", path: destination)
        }
        if named.count > 1 {
            guard named.count == count else {
                throw MoESlimError(.invalidArgument, "names a part of a \(named.count)-part split, but the output has \(count) parts; name it <name>.gguf or <name>-00001-of-\(GGUFModel.fiveDigits(count)).gguf", path: destination)
            }
            return named
        }
        let stem = destination.dropLastBytes(5)
        return (1...count).map { "\(stem)-\(GGUFModel.fiveDigits($0))-of-\(GGUFModel.fiveDigits(count)).gguf" }
    }

    /// The `split.*` entries of part `number` (from 0) of `count` parts holding `tensors` tensors in all.
    static func entries(number: Int, count: Int, tensors: Int) -> [[UInt8]] {
        [GGUFEncoding.keyValue("split.no", .integer(.uint16, Int64(number)))!,
         GGUFEncoding.keyValue("split.count", .integer(.uint16, Int64(count)))!,
         GGUFEncoding.keyValue("split.tensors.count", .integer(.int32, Int64(tensors)))!]
    }
}
