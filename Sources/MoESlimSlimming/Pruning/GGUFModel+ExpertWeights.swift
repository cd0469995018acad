import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies

/// A GGUF's expert weights: expert e of a stacked `blk.<l>.ffn_{gate,up,down,gate_up}_exps.weight` is its e-th
/// outermost slab, read in place from the mapped part (F32, F16, BF16) or dequantized block by block
/// (GGMLBlockSums lists the types). The slabs hold the same values in the same order as the Hugging Face tensors they were
/// converted from ([E, rows, columns], row-major), so AIMER scores them as it scores the safetensors model.
/// Expert biases (2-D `*_exps.bias`) are not weights and are left out.
extension GGUFModel: ExpertWeights {
    public var weightsPath: String { path }

    public func expertPieces(_ layer: MoELayer) throws(MoESlimError) -> [[ExpertWeightPiece]] {
        var perExpert = [[ExpertWeightPiece]](repeating: [], count: layer.numExperts)
        for name in layer.expertTensorNames {
            guard let (part, info) = tensor(name) else {
                throw MoESlimError(.invalidTensor, "the model description lists this expert tensor, which is missing", path: path, tensor: name)
            }
            guard info.dims.count >= 3 else { continue }
            guard info.dims.last == layer.numExperts else {
                throw MoESlimError(.invalidTensor, "has \(info.dims.last ?? 0) experts on its outermost dimension (shape \(info.shape)), the layer has \(layer.numExperts)", path: parts[part].path, tensor: name)
            }
            let floats: [UInt32: DType] = [0: .F32, 1: .F16, 30: .BF16]
            guard floats[info.type.id] != nil || GGMLBlockSums.isSupported(info.type) else {
                let readable = ["F32", "F16", "BF16"] + GGMLBlockSums.supported
                throw MoESlimError(.unsupportedModel, "AIMER reads \(readable.dropLast().joined(separator: ", ")) and \(readable.last!) expert weights, not \(info.type.name) (shape \(info.shape)); rank by --counts or a llama-imatrix file instead", path: parts[part].path, tensor: name)
            }
            func piece(_ slab: UnsafeRawBufferPointer) -> ExpertWeightPiece {
                floats[info.type.id].map { .plain(dtype: $0, bytes: slab) } ?? .ggmlBlocks(type: info.type, bytes: slab)
            }
            let bytes = parts[part].bytes(of: info), slab = info.outerSliceBytes
            for e in 0..<layer.numExperts {
                perExpert[e].append(piece(UnsafeRawBufferPointer(rebasing: bytes[(e * slab)..<((e + 1) * slab)])))
            }
        }
        return perExpert
    }

    public func release(_ layer: MoELayer, expert: Int) {
        for name in layer.expertTensorNames {
            guard let (part, info) = tensor(name) else { continue }
            let slab = info.outerSliceBytes
            parts[part].release(info, bytes: (expert * slab)..<((expert + 1) * slab))
        }
    }
}
