import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies
import MoESlimEngine

/// A safetensors checkpoint's expert weights as the family describes them: bf16/f16/f32 in place, block-scaled
/// FP8 decoded one matrix at a time, MXFP4 one expert slice at a time. Biases and quantization scales are not
/// weights and are left out, as the AIMER authors' code reads only the projection weights.
extension Checkpoint: ExpertWeights {
    public var weightsPath: String { path }

    public func expertPieces(_ layer: MoELayer) throws(MoESlimError) -> [[ExpertWeightPiece]] {
        let reader = WeightReader(checkpoint: self, compute: .f32)
        func stored(_ name: String) throws(MoESlimError) -> (TensorInfo, UnsafeRawBufferPointer) {
            guard let info = info(name), let bytes = bytes(of: name) else {
                throw MoESlimError(.invalidTensor, "the model description lists this expert tensor, which is missing", path: path, tensor: name)
            }
            return (info, bytes)
        }
        func unsupported(_ name: String, _ info: TensorInfo) -> MoESlimError {
            MoESlimError(.unsupportedModel, "AIMER reads f32, bf16, f16, block-scaled FP8 (E4M3) and MXFP4 expert weights, not \(info.dtype.rawValue) of shape \(info.shape)", path: path, tensor: name)
        }
        let floats: Set<DType> = [.F32, .BF16, .F16]
        guard layer.zeroComputeExperts == 0 else {
            throw MoESlimError(.unsupportedModel, "AIMER scores experts by their weights, and layer \(layer.layer)'s \(layer.zeroComputeExperts) zero-compute experts have none; rank by counts or --criterion random", path: path)
        }
        switch layer.experts {
        case .separate(_, let perExpert):
            guard perExpert.count == layer.numExperts else {
                throw MoESlimError(.invalidTensor, "layer \(layer.layer) lists \(perExpert.count) experts, the config says \(layer.numExperts)", path: path)
            }
            return try perExpert.map { (names) throws(MoESlimError) in
                let listed = Set(names.map { ByteName($0) })
                var pieces: [ExpertWeightPiece] = []
                for name in names {
                    let (info, bytes) = try stored(name)
                    let isScale = name.hasByteSuffix("_scale_inv") && listed.contains(ByteName(name.dropLastBytes(10)))
                    guard info.shape.count == 2, !isScale else { continue }
                    if info.dtype == .F8_E4M3 {
                        pieces.append(.decoded { () throws(MoESlimError) in try reader.load(name) })
                    } else if floats.contains(info.dtype) {
                        pieces.append(.plain(dtype: info.dtype, bytes: bytes))
                    } else {
                        throw unsupported(name, info)
                    }
                }
                return pieces
            }
        case .fused(let tensors):
            var perExpert = [[ExpertWeightPiece]](repeating: [], count: layer.numExperts)
            let listed = Set(tensors.map { ByteName($0.name) })
            for tensor in tensors {
                let (info, bytes) = try stored(tensor.name)
                let isScales = tensor.name.hasByteSuffix("_scales") && listed.contains(ByteName(tensor.name.dropLastBytes(7) + "_blocks"))
                guard info.shape.count >= 3, !isScales else { continue }
                guard tensor.axis == 0, info.shape[0] == layer.numExperts else {
                    throw MoESlimError(.invalidTensor, "AIMER reads fused expert tensors with one slice per expert on the first axis (\(layer.numExperts) experts), found shape \(info.shape) sliced on axis \(tensor.axis)", path: path, tensor: tensor.name)
                }
                if info.dtype == .U8, tensor.name.hasByteSuffix("_blocks") {
                    let scalesName = tensor.name.dropLastBytes(7) + "_scales"
                    let (scalesInfo, scales) = try stored(scalesName)
                    guard info.shape.count == 4, info.shape[3] == 16, scalesInfo.dtype == .U8, scalesInfo.shape == Array(info.shape.prefix(3)) else {
                        throw MoESlimError(.invalidTensor, "expected U8 MXFP4 blocks [E, rows, groups, 16] with U8 scales [E, rows, groups]", path: path, tensor: tensor.name)
                    }
                    let blockBytes = bytes.count / layer.numExperts, scaleBytes = scales.count / layer.numExperts
                    for e in 0..<layer.numExperts {
                        perExpert[e].append(.mxfp4(blocks: UnsafeRawBufferPointer(rebasing: bytes[(e * blockBytes)..<((e + 1) * blockBytes)]),
                                                   scales: UnsafeRawBufferPointer(rebasing: scales[(e * scaleBytes)..<((e + 1) * scaleBytes)])))
                    }
                } else if floats.contains(info.dtype) {
                    let sliceBytes = bytes.count / layer.numExperts
                    for e in 0..<layer.numExperts {
                        perExpert[e].append(.plain(dtype: info.dtype, bytes: UnsafeRawBufferPointer(rebasing: bytes[(e * sliceBytes)..<((e + 1) * sliceBytes)])))
                    }
                } else {
                    throw unsupported(tensor.name, info)
                }
            }
            return perExpert
        }
    }

    /// A separately stored expert's tensors go once it is scored; fused tensors, which a checkpoint releases
    /// whole, once the layer's last expert is.
    public func release(_ layer: MoELayer, expert: Int) {
        let names: [String]
        switch layer.experts {
        case .separate(_, let perExpert): names = expert < perExpert.count ? perExpert[expert] : []
        case .fused: names = expert == layer.numExperts - 1 ? layer.expertTensorNames : []
        }
        WeightReader(checkpoint: self, compute: .f32).release(names + names.map { $0 + "_scale_inv" })
    }
}
