import MoESlimFormats

/// What describe finds in a checkpoint, every check done, before any expert tensor's name is made a String:
/// report and inspect need no expert's name, and 90,000 Strings cost more than everything else they do.
package struct ModelOutline {
    /// One MoE layer's per-expert tensors as positions in `checkpoint.names`: expert e's are
    /// `positions[starts[e] ..< starts[e + 1]]`, in the byte order of their names. Empty for fused layers.
    package struct ExpertTensors {
        package var positions: [Int] = []
        var starts: [Int] = [0]

        var experts: Int { starts.count - 1 }

        func of(_ e: Int) -> ArraySlice<Int> { positions[starts[e] ..< starts[e + 1]] }
    }

    /// The description, except that layers of per-expert tensors list none in `perExpert`: `experts` holds
    /// them. Everything else (markers, routers, fused and shared tensors) is filled in.
    package var model: ModelDescription
    /// For each MoE layer, in `model.moeLayers` order.
    package let experts: [ExpertTensors]

    /// The full description, every expert tensor named.
    package func description(of checkpoint: Checkpoint) -> ModelDescription {
        var full = model
        let names = checkpoint.names
        for (i, layer) in experts.enumerated() {
            guard case .separate(let marker, _) = full.moeLayers[i].experts else { continue }
            full.moeLayers[i].experts = .separate(prefix: marker, perExpert: (0..<layer.experts).map { layer.of($0).map { names[$0] } })
        }
        return full
    }
}
