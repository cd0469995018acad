import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies

/// A router's rows are its experts, and a quantized router keeps its scales beside its weight in the same module
/// (`gate.weight_scale_inv`, `gate.weight_scale`, `gate.input_scale`, …), one per block of rows. Removing experts
/// cuts rows out of those blocks, so no byte-range copy gives the right scales; routers are left unquantized by
/// the FP8 and compressed-tensors releases, and one that is not is refused by name rather than written wrong.
enum QuantizedRouters {
    /// Throws when a router weight sliced by this prune (`sliced`, by name) has any other tensor in its module.
    static func refuse(_ checkpoint: Checkpoint, model: ModelDescription, sliced: Set<ByteName>) throws(MoESlimError) {
        var modules: [ByteName: (layer: Int, weight: String)] = [:]
        for layer in model.moeLayers {
            for r in layer.router where sliced.contains(ByteName(r.name)) && r.name.hasByteSuffix(".weight") {
                modules[ByteName(r.name.dropLastBytes("weight".utf8.count))] = (layer.layer, r.name)
            }
        }
        guard !modules.isEmpty else { return }
        for name in checkpoint.names where !sliced.contains(ByteName(name)) {
            guard let dot = name.utf8.lastIndex(of: UInt8(ascii: ".")),
                  let router = modules[ByteName(String(decoding: name.utf8[...dot], as: UTF8.self))]
            else { continue }
            throw MoESlimError(
                .unsupportedModel,
                "MoE layer \(router.layer): the router '\(router.weight)' is quantized (this tensor is beside it); removing experts would cut its rows out of their scale blocks, so prune refuses it; dequantize the router first",
                path: checkpoint.path, tensor: name)
        }
    }
}
