import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies

/// The expert weight values of one MoE layer, expert by expert, as some file stores them: what weight-only
/// criteria (AIMER) read. Safetensors checkpoints and GGUF models both provide it, so AimerScores holds the
/// formula once and the same values give the same scores whatever the format.
public protocol ExpertWeights {
    /// The file that errors about the weights name.
    var weightsPath: String { get }
    /// Entry e lists expert e's pieces of weight values in `layer`, every tensor checked before anything is
    /// summed; the bytes stay in the mapped files, so a piece costs nothing until it is read.
    func expertPieces(_ layer: MoELayer) throws(MoESlimError) -> [[ExpertWeightPiece]]
    /// Expert `expert` of `layer` has been scored: the pages of its weights may leave this process (the page
    /// cache keeps them), so peak memory stays about one expert's.
    func release(_ layer: MoELayer, expert: Int)
}

/// One expert's part of one stored weight tensor, in its stored encoding.
public enum ExpertWeightPiece {
    /// bf16, f16 or f32 elements, contiguous.
    case plain(dtype: DType, bytes: UnsafeRawBufferPointer)
    /// Whole ggml quantized blocks of a type GGMLBlockSums dequantizes, as llama.cpp stores them.
    case ggmlBlocks(type: GGMLType, bytes: UnsafeRawBufferPointer)
    /// One expert's slice of MXFP4 `_blocks` [rows, groups, 16] with its `_scales` [rows, groups].
    case mxfp4(blocks: UnsafeRawBufferPointer, scales: UnsafeRawBufferPointer)
    /// Values only a decoder can give (block-scaled FP8 with its `_scale_inv`), decoded when summed, so one
    /// matrix at a time is in memory.
    case decoded(() throws(MoESlimError) -> [Float])
}
