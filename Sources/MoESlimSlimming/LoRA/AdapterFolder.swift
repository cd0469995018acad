import MoESlimSupport
import MoESlimFormats

/// A trained PEFT adapter on disk (adapter_config.json + adapter_model.safetensors), its tensors grouped by the
/// module they adapt. Only safetensors is read: adapter_model.bin is a pickle, and unpickling runs code.
struct AdapterFolder: Sendable {
    /// One tensor inside the adapter file.
    struct Tensor: Sendable {
        var key: String
        var info: TensorInfo
        var file: SafeTensorsFile

        var shape: [Int] { info.shape }

        func floats() -> [Float] { TensorElements.floats(file.bytes(of: info), dtype: info.dtype) }
    }

    /// The factors PEFT saved for one adapted module (or, for target_parameters, one wrapper depth of it).
    struct Factors: Sendable {
        var module: String
        var depth: Int
        var a: Tensor?
        var b: Tensor?
        var bBias: Tensor?
        var embeddingA: Tensor?
        var embeddingB: Tensor?
        var magnitude: Tensor?
    }

    /// A whole tensor that replaces the model's: `<module>.<parameter>` at training time.
    struct Replacement: Sendable {
        var module: String
        var parameter: String
        var isBaseLayer: Bool
        var tensor: Tensor
    }

    var path: String
    var config: AdapterConfig
    var factors: [Factors]
    var replacements: [Replacement]

    static let configName = "adapter_config.json"
    static let weightsName = "adapter_model.safetensors"

    init(path: String, adapterName: String?) throws(MoESlimError) {
        self.path = path
        guard FileSystem.isDirectory(path) else {
            throw MoESlimError(.invalidAdapter, "an adapter is a folder holding \(Self.configName) and \(Self.weightsName)", path: path)
        }
        let configPath = FileSystem.join(path, Self.configName)
        guard FileSystem.exists(configPath) else { throw MoESlimError(.invalidAdapter, "\(Self.configName) is missing", path: path) }
        config = try AdapterConfig(InputFile.readJSON(configPath, as: .adapterConfig), path: configPath)
        let weightsPath = FileSystem.join(path, Self.weightsName)
        guard FileSystem.exists(weightsPath) else {
            if FileSystem.exists(FileSystem.join(path, "adapter_model.bin")) {
                throw MoESlimError(.invalidAdapter, "only adapter_model.bin is present; it is a pickle and is not read. Convert it with: python -c \"import torch; from safetensors.torch import save_file; save_file(torch.load('adapter_model.bin', weights_only=True), 'adapter_model.safetensors')\"", path: path)
            }
            throw MoESlimError(.invalidAdapter, "\(Self.weightsName) is missing", path: path)
        }
        let file = try SafeTensorsFile(path: weightsPath)
        var grouped: [ByteName: Factors] = [:]
        var order: [ByteName] = []
        var replacements: [Replacement] = []
        for info in file.header.tensors {
            guard let key = AdapterKey(info.name, adapterName: adapterName) else {
                throw MoESlimError(.invalidAdapter, "tensor name is not a PEFT LoRA name (base_model.model.<module>.lora_A.weight and the like)", path: weightsPath, tensor: info.name)
            }
            guard TensorElements.supports(info.dtype) else {
                throw MoESlimError(.invalidAdapter, "adapter tensors must be F32, BF16 or F16, not \(info.dtype.rawValue)", path: weightsPath, tensor: info.name)
            }
            let tensor = Tensor(key: info.name, info: info, file: file)
            if key.role == .replacement {
                replacements.append(Replacement(module: key.module, parameter: key.parameter, isBaseLayer: key.depth > 0, tensor: tensor))
                continue
            }
            let id = ByteName("\(key.module)#\(key.depth)")
            if grouped[id] == nil {
                grouped[id] = Factors(module: key.module, depth: key.depth)
                order.append(id)
            }
            func set(_ slot: WritableKeyPath<Factors, Tensor?>) throws(MoESlimError) {
                guard grouped[id]![keyPath: slot] == nil else {
                    throw MoESlimError(.invalidAdapter, "two tensors for the same factor (several adapters in one file? pass --adapter-name)", path: weightsPath, tensor: info.name)
                }
                grouped[id]![keyPath: slot] = tensor
            }
            switch key.role {
            case .loraA: try set(\.a)
            case .loraB: try set(key.parameter == "bias" ? \.bBias : \.b)
            case .embeddingA: try set(\.embeddingA)
            case .embeddingB: try set(\.embeddingB)
            case .magnitude: try set(\.magnitude)
            case .replacement: break
            }
        }
        factors = order.map { grouped[$0]! }
        self.replacements = replacements
        guard !factors.isEmpty || !replacements.isEmpty else {
            throw MoESlimError(.invalidAdapter, "the adapter holds no tensors", path: weightsPath)
        }
    }
}
