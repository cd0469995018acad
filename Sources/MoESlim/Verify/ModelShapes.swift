/// Shapes transformers insists on when it loads a checkpoint, beyond the expert counts the families already
/// check: a model that passes verify should also load.
enum ModelShapes {
    static func problems(_ model: ModelDescription, in checkpoint: Checkpoint) -> [MoESlimError] {
        var problems: [MoESlimError] = []
        func fail(_ message: String, _ tensor: String) {
            problems.append(MoESlimError(.invalidTensor, message, path: checkpoint.path, tensor: tensor))
        }
        let vocabulary = [model.vocabSize, model.hiddenSize]
        for name in [model.embedTensor] + (model.lmHeadTensor.map { [$0] } ?? []) {
            guard let shape = checkpoint.info(name)?.shape, shape != vocabulary else { continue }
            fail("has shape \(shape) but the config's vocab_size and hidden_size make \(vocabulary)", name)
        }
        for layer in model.moeLayers {
            for router in layer.router where router.name.hasByteSuffix("weight") {
                guard let shape = checkpoint.info(router.name)?.shape, shape.count == 2, router.axis < 2,
                      shape[1 - router.axis] != model.hiddenSize else { continue }
                fail("MoE layer \(layer.layer): router has shape \(shape), not hidden_size \(model.hiddenSize) beside its experts", router.name)
            }
            guard case .separate(_, let perExpert) = layer.experts, let first = perExpert.first else { continue }
            for (e, tensors) in perExpert.enumerated().dropFirst() {
                for (name, reference) in zip(tensors, first) {
                    guard let info = checkpoint.info(name), let expected = checkpoint.info(reference),
                          info.shape != expected.shape || info.dtype != expected.dtype else { continue }
                    fail("MoE layer \(layer.layer): expert \(e) has \(info.dtype.rawValue) \(info.shape) where expert 0 has \(expected.dtype.rawValue) \(expected.shape)", name)
                }
            }
        }
        return problems
    }
}
