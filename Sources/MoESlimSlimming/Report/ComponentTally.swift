import MoESlimFamilies

/// Parameters, bytes and active parameters summed per component as tensors are sorted in. Arrays in
/// `Component.allCases` order and an array of expert shares by layer number, because three dictionary updates
/// per tensor showed in the profile of a 90,000-tensor report.
struct ComponentTally {
    private var params = [Int](repeating: 0, count: Component.allCases.count)
    private var bytes = [Int](repeating: 0, count: Component.allCases.count)
    private var active = [Double](repeating: 0, count: Component.allCases.count)
    /// The share of a MoE layer's experts one token uses, by layer number (1 elsewhere).
    private var shares: [Double]

    init(model: ModelDescription, topK: Int?) {
        shares = [Double](repeating: 1, count: (model.moeLayers.map(\.layer).max() ?? -1) + 1)
        for layer in model.moeLayers where layer.layer >= 0 {
            shares[layer.layer] = Double(min(topK ?? layer.topK, layer.numExperts)) / Double(layer.numExperts)
        }
    }

    /// `layer` is the MoE layer of a routed-expert tensor, nil for tensors every token uses.
    mutating func add(_ component: Component, layer: Int?, elements: Int, bytes count: Int) {
        let i = Component.allCases.firstIndex(of: component)!
        params[i] += elements
        bytes[i] += count
        let share = layer.map { $0 >= 0 && $0 < shares.count ? shares[$0] : 1 } ?? 1
        active[i] += Double(elements) * share
    }

    func params(_ component: Component) -> Int { params[Component.allCases.firstIndex(of: component)!] }
    func bytes(_ component: Component) -> Int { bytes[Component.allCases.firstIndex(of: component)!] }
    func active(_ component: Component) -> Double { active[Component.allCases.firstIndex(of: component)!] }
}
