import XCTest
@testable import MoESlimFamilies

/// Every folder of fixtures/hostile/configs (written by fixtures/gen_hostile_configs.py) with the exact error and
/// exit code of each command that reads it, run through the built executable. Each case is a one-layer model
/// with one change; the controls, unchanged, pass every command, so each refusal comes from its case's change.
final class HostileConfigTests: XCTestCase {
    static let folder = FixturePaths.fixture("hostile/configs")
    static let tokens = folder + "/tokens.jsonl"
    static let controls = ["control", "control-granitemoe", "control-deepseek_v3", "control-longcat_flash"]
    /// Cases cut from fixtures/models/deepseek_v3, whose MoE layer is layer 1; the others' is layer 0.
    static let deepseek: Set = ["control-deepseek_v3", "n-group-not-dividing", "topk-group-above-groups", "rope-head-dim-zero", "shared-expert-transposed", "kv-b-proj-width", "router-in-dense-layer"]

    /// Config values transformers refuses, and prune history that does not fit the model: the message after
    /// the config's path.
    static let configRefusals: [String: String] = [
        "topk-above-experts": "num_experts_per_tok is 5; it must be between 1 and the 4 experts of MoE layer 0",
        "topk-zero": "num_experts_per_tok is 0; it must be between 1 and the 4 experts of MoE layer 0",
        "heads-zero": "num_attention_heads is 0; it must be a positive integer",
        "kv-heads-zero": "num_key_value_heads is 0; it must be a positive divisor of num_attention_heads (4)",
        "kv-heads-not-dividing": "num_key_value_heads is 3; it must be a positive divisor of num_attention_heads (4)",
        "hidden-size-negative": "hidden_size is -16, outside 0...16777216",
        "vocab-size-zero": "vocab_size is 0; it must be a positive integer",
        "intermediate-size-zero": "intermediate_size is 0; it must be a positive integer",
        "hidden-act-unknown": "hidden_act is \"swiglu\", which transformers does not know (ACT2FN: gelu, gelu_10, gelu_accurate, gelu_fast, gelu_new, gelu_python, gelu_pytorch_tanh, laplace, leaky_relu, linear, mish, prelu, quick_gelu, relu, relu2, relu6, sigmoid, silu, swish, tanh, xielu)",
        "eps-string": "rms_norm_eps is \"1e-5\"; it must be a non-negative number",
        "layer-types-length": "layer_types must list one attention type per layer (num_hidden_layers is 1)",
        "n-group-not-dividing": "n_group is 3; it must be a positive divisor of the 8 experts",
        "topk-group-above-groups": "topk_group is 3; it must be between 1 and n_group (2)",
        "rope-head-dim-zero": "qk_rope_head_dim is 0; it must be a positive integer",
        "rope-linear-without-factor": "rope_parameters with rope_type 'linear' needs 'factor'",
        "rope-llama3-missing-field": "rope_parameters with rope_type 'llama3' needs 'low_freq_factor'",
        "rope-type-unknown": "rope_parameters.rope_type is \"spiral\", which transformers does not know (default, dynamic, linear, llama3, longrope, yarn)",
        "partial-rotary-factor-huge": "partial_rotary_factor is 1e+300; it must be a number in (0, 1]",
        "rope-factor-string": "rope_parameters.factor is \"2\"; it must be a number",
        "kept-experts-not-increasing": "moe_slim.kept_experts[\"0\"] must list expert ids in strictly increasing order, each in 0..<65536",
        "kept-experts-negative-id": "moe_slim.kept_experts[\"0\"] must list expert ids in strictly increasing order, each in 0..<65536",
        "kept-experts-wrong-count": "moe_slim.kept_experts[\"0\"] lists 3 experts but layer 0 has 4",
        "kept-experts-unknown-layer": "moe_slim.kept_experts names layer \"7\", which is not a MoE layer",
        "kept-experts-missing-layer": "moe_slim.kept_experts has no entry for MoE layer 0",
        "experts-per-layer-unknown-layer": "moe_slim.experts_per_layer names layer \"01\", which is not a MoE layer",
        "longcat-zero-experts-huge": "zero_expert_num is 70000, outside 0...65536",
        "experts-per-layer-above-config": "moe_slim.experts_per_layer[\"0\"] is 9; it must be between 1 and the config's 4 experts",
    ]

    /// Tensors whose shape the config contradicts: the tensor and the message after its name.
    static let shapeRefusals: [String: (tensor: String, message: String)] = [
        "expert-w1-columns": ("model.layers.0.block_sparse_moe.experts.0.w1.weight", "has shape [8, 15], expected [8, 16]"),
        "expert-w2-inner": ("model.layers.0.block_sparse_moe.experts.0.w2.weight", "has shape [16, 7], expected [16, 8]"),
        "experts-narrower-than-config": ("model.layers.0.block_sparse_moe.experts.0.w1.weight", "has shape [6, 16], expected [8, 16]"),
        "shared-expert-transposed": ("model.layers.1.mlp.shared_experts.down_proj.weight", "has shape [8, 16], expected [16, 8]"),
        "kv-b-proj-width": ("model.layers.1.self_attn.kv_b_proj.weight", "has shape [31, 8], expected [32, 8]"),
        "k-proj-transposed": ("model.layers.0.self_attn.k_proj.weight", "has shape [16, 8], expected [8, 16]"),
        "k-proj-transposed-gelu": ("model.layers.0.self_attn.k_proj.weight", "has shape [16, 8], expected [8, 16]"),
        "o-proj-3d": ("model.layers.0.self_attn.o_proj.weight", "has shape [16, 16, 1], expected [16, 16]"),
        "router-3d": ("model.layers.0.block_sparse_moe.gate.weight", "has shape [4, 16, 1], expected [4, 16]"),
        "router-expert-count": ("model.layers.0.block_sparse_moe.gate.weight", "MoE layer 0: has 5 experts on axis 0 but the config says 4"),
        "norm-width": ("model.layers.0.input_layernorm.weight", "has shape [15], expected [16]"),
        "router-in-dense-layer": ("model.layers.1.mlp.gate.weight", "is a router in layer 1, which the config makes a dense layer (it makes 0 of the 2 layers MoE)"),
        "longcat-mlp-transposed": ("model.layers.0.mlps.1.down_proj.weight", "has shape [8, 16], expected [16, 8]"),
        "longcat-second-attention-width": ("model.layers.0.self_attn.1.kv_b_proj.weight", "has shape [31, 8], expected [32, 8]"),
        "longcat-router-without-zero-rows": ("model.layers.0.mlp.router.classifier.weight", "MoE layer 0: has 4 experts on axis 0 but the config says 6"),
        "fused-down-axes-swapped": ("model.layers.0.block_sparse_moe.output_linear.weight", "has shape [4, 8, 16], expected [4, 16, 8]"),
    ]

    /// Weights and configs that load but make the activations NaN before the first router.
    static let nonFinite = ["nan-weight", "rope-theta-zero"]

    private static func path(_ name: String) -> String { folder + "/" + name }

    private static func plan(_ name: String) -> String { folder + (deepseek.contains(name) ? "/plan-deepseek_v3.json" : "/plan.json") }

    private static func configError(_ name: String) -> String {
        "moe-slim: error: \(path(name))/config.json: \(configRefusals[name]!)"
    }

    private static func shapeError(_ name: String) -> String {
        let (tensor, message) = shapeRefusals[name]!
        return "moe-slim: error: \(path(name)): tensor '\(tensor)': \(message)"
    }

    /// The commands that read a model, each writing (when it writes) into `scratch`.
    private static func commands(_ name: String, scratch: String) -> [String: [String]] {
        let model = path(name)
        return [
            "verify": ["verify", model],
            "inspect": ["inspect", model],
            "report": ["report", model],
            "calibrate": ["calibrate", model, "--data", tokens, "-o", scratch + "/\(name).counts.json"],
            "eval": ["eval", model, "--data", tokens],
            "sweep": ["sweep", model, "--plan", plan(name), "--data", tokens],
            "prune": ["prune", model, scratch + "/\(name)-pruned", "--plan", plan(name)],
            "merge-lora": ["merge-lora", model, FixturePaths.fixture("lora/attention/adapter"), scratch + "/\(name)-merged"],
        ]
    }

    private func assertRefused(_ name: String, by names: [String], with line: String, file: StaticString = #filePath, line number: UInt = #line) throws {
        let scratch = try Fixtures.scratch()
        let all = Self.commands(name, scratch: scratch)
        for command in names {
            let run = try CommandRunner.run(all[command]!)
            XCTAssertEqual(run.status, 65, "\(name) \(command): \(run.stderr)", file: file, line: number)
            // verify writes one line per problem and the other commands stop at the first.
            let lines = run.stderrLines.map(String.init)
            XCTAssertEqual(command == "verify" ? Array(lines.prefix(1)) : lines, [line], "\(name) \(command)", file: file, line: number)
        }
        let written = try FileManager.default.contentsOfDirectory(atPath: scratch)
        XCTAssertEqual(written, [], "\(name) left output behind", file: file, line: number)
    }

    func testEveryCaseHasAnExpectation() throws {
        let present = try FileManager.default.contentsOfDirectory(atPath: Self.folder).filter { !$0.contains(".") }
        let expected = Set(Self.controls + Self.configRefusals.keys + Self.shapeRefusals.keys + Self.nonFinite + ["nan-lm-head", "dense-only"])
        XCTAssertEqual(Set(present), expected)
    }

    func testControlsPassEveryCommand() throws {
        for name in Self.controls {
            let scratch = try Fixtures.scratch()
            for (command, arguments) in Self.commands(name, scratch: scratch) where command != "merge-lora" {
                let run = try CommandRunner.run(arguments)
                XCTAssertEqual(run.status, 0, "\(name) \(command): \(run.stderr)")
            }
        }
    }

    /// A model whose config and tensors agree it is dense: described and reported, but prune has no experts to
    /// remove (it copied the model and exited 0).
    func testADenseModelIsDescribedButNotPruned() throws {
        let scratch = try Fixtures.scratch()
        let model = Self.path("dense-only")
        let report = try CommandRunner.run(["report", model])
        XCTAssertEqual(report.status, 0, report.stderr)
        let prune = try CommandRunner.run(["prune", model, scratch + "/out", "--keep", "2", "--criterion", "aimer"])
        XCTAssertEqual(prune.status, 65)
        XCTAssertEqual(prune.stderr, "moe-slim: error: \(model)/config.json: the config describes no MoE layer (2 dense layers): there are no experts to prune\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch), [])
    }

    /// The heap corruption of issue 14: top-k above the expert count ran calibrate and eval out of bounds.
    func testTopKAboveTheExpertCountIsRefusedBeforeTheForwardPass() throws {
        try assertRefused("topk-above-experts", by: ["calibrate", "eval"], with: Self.configError("topk-above-experts"))
    }

    func testConfigRefusalsStopEveryCommand() throws {
        for name in Self.configRefusals.keys.sorted() {
            try assertRefused(name, by: ["verify", "inspect", "report", "calibrate", "eval", "prune"], with: Self.configError(name))
        }
    }

    func testVerifyReportsTheConfigProblem() throws {
        let run = try CommandRunner.run(["verify", Self.path("kv-heads-not-dividing")])
        XCTAssertEqual(run.status, 65)
        XCTAssertTrue(run.stdout.contains("  problem [invalidConfig]: \(Self.path("kv-heads-not-dividing"))/config.json: \(Self.configRefusals["kv-heads-not-dividing"]!)\n"), run.stdout)
    }

    func testShapeRefusalsStopVerifyCalibrateAndPrune() throws {
        for name in Self.shapeRefusals.keys.sorted() {
            try assertRefused(name, by: ["verify", "calibrate", "prune"], with: Self.shapeError(name))
        }
    }

    /// Every other command that reads tensors refuses the same way.
    func testShapeRefusalsStopEveryOtherCommand() throws {
        for name in ["expert-w2-inner", "fused-down-axes-swapped", "kv-b-proj-width"] {
            try assertRefused(name, by: ["inspect", "report", "eval", "sweep", "merge-lora"], with: Self.shapeError(name))
        }
    }

    /// verify lists every shape problem, where the other commands stop at the first.
    func testVerifyListsEveryShapeProblem() throws {
        let name = "experts-narrower-than-config"
        let run = try CommandRunner.run(["verify", Self.path(name)])
        XCTAssertEqual(run.status, 65)
        let problems = run.stdout.split(separator: "\n").filter { $0.hasPrefix("  problem") }.map(String.init)
        let expert = "model.layers.0.block_sparse_moe.experts.0."
        XCTAssertEqual(problems, [
            "  problem [invalidTensor]: \(Self.path(name)): tensor '\(expert)w1.weight': has shape [6, 16], expected [8, 16]",
            "  problem [invalidTensor]: \(Self.path(name)): tensor '\(expert)w3.weight': has shape [6, 16], expected [8, 16]",
            "  problem [invalidTensor]: \(Self.path(name)): tensor '\(expert)w2.weight': has shape [16, 6], expected [16, 8]",
        ])
    }

    func testNonFiniteRouterInputsStopTheForwardPass() throws {
        for name in Self.nonFinite {
            let line = "moe-slim: error: \(Self.path(name)): MoE layer 0: the router's logits are NaN or infinite; a weight or a config value (such as rope_theta 0) makes the activations non-finite"
            try assertRefused(name, by: ["calibrate", "eval", "sweep"], with: line)
        }
    }

    /// A NaN after the last router: calibrate, which stops there, counts as usual; eval and sweep refuse.
    func testNonFiniteLogitsStopEvaluation() throws {
        let name = "nan-lm-head"
        let line = "moe-slim: error: \(Self.path(name)): the next-token logits are NaN or infinite; a weight after the last MoE layer (such as the final norm or the head) makes them non-finite"
        try assertRefused(name, by: ["eval", "sweep"], with: line)
        let scratch = try Fixtures.scratch()
        let calibrate = try CommandRunner.run(Self.commands(name, scratch: scratch)["calibrate"]!)
        XCTAssertEqual(calibrate.status, 0, calibrate.stderr)
    }

    /// Llama 4 indexes no_rope_layers by layer and divides positions by attention_chunk_size; a shorter list or
    /// a zero chunk trapped the forward pass.
    func testLlama4LayerListsAndChunksAreChecked() throws {
        let cases: [(key: String, value: Any, message: String)] = [
            ("no_rope_layers", [1], "no_rope_layers must have one entry per layer (num_hidden_layers is 4), not 1"),
            ("attention_chunk_size", 0, "attention_chunk_size is 0; it must be a positive integer"),
        ]
        let path = EngineGolden.folder("llama4_text") + "/config.json"
        for (key, value, message) in cases {
            var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
            config[key] = value
            let bytes = [UInt8](try JSONSerialization.data(withJSONObject: config))
            XCTAssertThrowsError(try EngineFamilies.all["llama4_text"]!(bytes, "config.json")) { error in
                XCTAssertEqual("\(error)", "config.json: " + message)
            }
        }
    }
}
