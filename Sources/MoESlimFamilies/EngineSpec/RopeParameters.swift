import Foundation
import MoESlimSupport

/// Rotary settings in either spelling: transformers 5's `rope_parameters` object, or the older top-level
/// `rope_theta` with an optional `rope_scaling` object (what most published checkpoints carry).
struct RopeParameters: Decodable {
    var theta: Double
    var type: String
    var factor: Double?
    var lowFreqFactor: Double?
    var highFreqFactor: Double?
    var originalMaxPositions: Int?
    var betaFast: Double?
    var betaSlow: Double?
    var mscale: Double?
    var mscaleAllDim: Double?
    var attentionFactor: Double?
    var truncate: Bool?
    var partialRotaryFactor: Double?
    var longFactor: [Double]?
    var shortFactor: [Double]?
    var longMscale: Double?
    var shortMscale: Double?
    /// Hunyuan's NTK-alpha: the factor its "dynamic" rope stretches the base by (its family reads it).
    var alpha: Double?
    /// Whether the config states no rope_theta and `theta` is transformers' usual 10000; a family whose config
    /// class has another default_theta (LFM2's 1e6) replaces it.
    var thetaIsDefault = false

    private struct Scaling: Decodable {
        var ropeTheta: Double?
        var ropeType: String?
        var type: String?
        var factor: Double?
        var lowFreqFactor: Double?
        var highFreqFactor: Double?
        var originalMaxPositionEmbeddings: Int?
        var betaFast: Double?
        var betaSlow: Double?
        var mscale: Double?
        var mscaleAllDim: Double?
        var attentionFactor: Double?
        var truncate: Bool?
        var partialRotaryFactor: Double?
        var longFactor: [Double]?
        var shortFactor: [Double]?
        var longMscale: Double?
        var shortMscale: Double?
        var alpha: Double?

        enum CodingKeys: String, CodingKey {
            case ropeTheta = "rope_theta"
            case longFactor = "long_factor"
            case shortFactor = "short_factor"
            case longMscale = "long_mscale"
            case shortMscale = "short_mscale"
            case ropeType = "rope_type"
            case type
            case factor
            case lowFreqFactor = "low_freq_factor"
            case highFreqFactor = "high_freq_factor"
            case originalMaxPositionEmbeddings = "original_max_position_embeddings"
            case betaFast = "beta_fast"
            case betaSlow = "beta_slow"
            case mscale
            case mscaleAllDim = "mscale_all_dim"
            case attentionFactor = "attention_factor"
            case truncate
            case partialRotaryFactor = "partial_rotary_factor"
            case alpha
        }
    }

    enum CodingKeys: String, CodingKey {
        case ropeParameters = "rope_parameters"
        case ropeScaling = "rope_scaling"
        case ropeTheta = "rope_theta"
        case partialRotaryFactor = "partial_rotary_factor"
        case originalMaxPositionEmbeddings = "original_max_position_embeddings"
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let scaling = try c.decodeIfPresent(Scaling.self, forKey: .ropeParameters)
            ?? c.decodeIfPresent(Scaling.self, forKey: .ropeScaling)
        // A family that gives rope_theta per layer (ConfigBounds.perLayerNumberKeys) states its rotations itself.
        let perLayer = (try? c.decodeIfPresent([Double].self, forKey: .ropeTheta)) != nil
        let statedTheta = try scaling?.ropeTheta ?? (perLayer ? nil : c.decodeIfPresent(Double.self, forKey: .ropeTheta))
        theta = statedTheta ?? 10000
        thetaIsDefault = statedTheta == nil
        type = scaling?.ropeType ?? scaling?.type ?? "default"
        factor = scaling?.factor
        lowFreqFactor = scaling?.lowFreqFactor
        highFreqFactor = scaling?.highFreqFactor
        originalMaxPositions = try scaling?.originalMaxPositionEmbeddings
            ?? c.decodeIfPresent(Int.self, forKey: .originalMaxPositionEmbeddings)
        longFactor = scaling?.longFactor
        shortFactor = scaling?.shortFactor
        longMscale = scaling?.longMscale
        shortMscale = scaling?.shortMscale
        alpha = scaling?.alpha
        betaFast = scaling?.betaFast
        betaSlow = scaling?.betaSlow
        mscale = scaling?.mscale
        mscaleAllDim = scaling?.mscaleAllDim
        attentionFactor = scaling?.attentionFactor
        truncate = scaling?.truncate
        partialRotaryFactor = try scaling?.partialRotaryFactor ?? c.decodeIfPresent(Double.self, forKey: .partialRotaryFactor)
    }

    /// Default rotation at theta 10000: the shape check's stand-in for any rope settings.
    var plain: RopeParameters {
        var r = self
        r.type = "default"
        r.theta = 10000
        r.partialRotaryFactor = nil
        return r
    }

    /// Inverse frequencies as transformers' modeling_rope_utils computes them (in float32).
    func spec(rotaryDim dim: Int, layout: RopeLayout, maxPositions: Int?) throws(MoESlimError) -> RopeSpec {
        let half = dim / 2
        let base = (0..<half).map { i in 1 / Float(pow(Float(theta), Float(2 * i) / Float(dim))) }
        switch type {
        case "default":
            return RopeSpec(inverseFrequencies: base, attentionFactor: 1, layout: layout)
        case "linear":
            let f = Float(try required(factor, "factor"))
            return RopeSpec(inverseFrequencies: base.map { $0 / f }, attentionFactor: 1, layout: layout)
        case "llama3":
            return RopeSpec(inverseFrequencies: try llama3(base), attentionFactor: 1, layout: layout)
        case "yarn":
            return try yarn(dim: dim, layout: layout, maxPositions: maxPositions)
        case "longrope":
            return try longrope(dim: dim, layout: layout, maxPositions: maxPositions)
        default:
            throw MoESlimError(.unsupportedModel, "calibrate does not support rope type '\(type)' (supported: default, linear, llama3, yarn, longrope)")
        }
    }

    private func required(_ value: Double?, _ key: String) throws(MoESlimError) -> Double {
        guard let value else { throw MoESlimError(.invalidConfig, "rope scaling '\(type)' needs '\(key)'") }
        return value
    }

    private func llama3(_ base: [Float]) throws(MoESlimError) -> [Float] {
        let factor = Float(try required(self.factor, "factor"))
        let low = Float(try required(lowFreqFactor, "low_freq_factor"))
        let high = Float(try required(highFreqFactor, "high_freq_factor"))
        guard let old = originalMaxPositions else {
            throw MoESlimError(.invalidConfig, "rope scaling 'llama3' needs 'original_max_position_embeddings'")
        }
        let context = Float(old)
        let lowWavelen = context / low
        let highWavelen = context / high
        return base.map { f in
            let wavelen = 2 * Float.pi / f
            let scaled = wavelen > lowWavelen ? f / factor : f
            let medium = !(wavelen < highWavelen) && !(wavelen > lowWavelen)
            guard medium else { return scaled }
            let smooth = (context / wavelen - low) / (high - low)
            return (1 - smooth) * scaled / factor + smooth * scaled
        }
    }

    private static func yarnMscale(_ scale: Double, _ m: Double = 1) -> Double {
        scale <= 1 ? 1 : 0.1 * m * log(scale) + 1
    }

    private func yarn(dim: Int, layout: RopeLayout, maxPositions: Int?) throws(MoESlimError) -> RopeSpec {
        guard let original = originalMaxPositions else {
            throw MoESlimError(.invalidConfig, "rope scaling 'yarn' needs 'original_max_position_embeddings'")
        }
        let factor = self.factor ?? Double(maxPositions ?? original) / Double(original)
        var attention = attentionFactor
        if attention == nil {
            if let mscale, let mscaleAllDim, mscale != 0, mscaleAllDim != 0 {
                attention = Self.yarnMscale(factor, mscale) / Self.yarnMscale(factor, mscaleAllDim)
            } else {
                attention = Self.yarnMscale(factor)
            }
        }
        let fast = betaFast ?? 32
        let slow = betaSlow ?? 1
        func correctionDim(_ rotations: Double) -> Double {
            Double(dim) * log(Double(original) / (rotations * 2 * Double.pi)) / (2 * log(theta))
        }
        var low = correctionDim(fast)
        var high = correctionDim(slow)
        if truncate ?? true {
            low = low.rounded(.down)
            high = high.rounded(.up)
        }
        low = max(low, 0)
        high = min(high, Double(dim - 1))
        if low == high { high += 0.001 }
        var inverse: [Float] = []
        for i in 0..<(dim / 2) {
            let posFreq = pow(Float(theta), Float(2 * i) / Float(dim))
            let extrapolation = 1 / posFreq
            let interpolation = 1 / (Float(factor) * posFreq)
            let ramp = min(max((Float(i) - Float(low)) / (Float(high) - Float(low)), 0), 1)
            let extrapolationFactor = 1 - ramp
            inverse.append(interpolation * (1 - extrapolationFactor) + extrapolation * extrapolationFactor)
        }
        return RopeSpec(inverseFrequencies: inverse, attentionFactor: Float(attention ?? 1), layout: layout)
    }

    private func longrope(dim: Int, layout: RopeLayout, maxPositions: Int?) throws(MoESlimError) -> RopeSpec {
        guard let original = originalMaxPositions, let longFactor, let shortFactor,
              longFactor.count == dim / 2, shortFactor.count == dim / 2
        else {
            throw MoESlimError(.invalidConfig, "rope scaling 'longrope' needs original_max_position_embeddings and long_factor / short_factor with \(dim / 2) entries")
        }
        let factor = self.factor ?? Double(maxPositions ?? original) / Double(original)
        let attention = attentionFactor ?? (factor <= 1 ? 1 : (1 + log(factor) / log(Double(original))).squareRoot())
        func inverse(_ ext: [Double]) -> [Float] {
            (0..<(dim / 2)).map { i in 1 / (Float(ext[i]) * pow(Float(theta), Float(2 * i) / Float(dim))) }
        }
        var spec = RopeSpec(inverseFrequencies: inverse(shortFactor), attentionFactor: Float(attention), layout: layout)
        spec.long = LongRope(inverseFrequencies: inverse(longFactor), attentionFactor: Float(attention), above: original)
        return spec
    }

    /// DeepSeek multiplies the attention scale by mscale(factor, mscale_all_dim)² under yarn.
    func deepseekScaling(_ scaling: Float) -> Float {
        guard type != "default", let mscaleAllDim, mscaleAllDim != 0, let factor else { return scaling }
        let m = Float(Self.yarnMscale(factor, mscaleAllDim))
        return scaling * m * m
    }
}
