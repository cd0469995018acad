extension EngineFamilies {
    /// The engine spec the shape check reads tensor names and widths from. The activation and the rotary
    /// scaling change the forward pass's arithmetic, never a tensor's shape, and calibrate refuses the ones it
    /// does not implement; here they are set to ones it does, so a model calibrate cannot run (a gelu
    /// activation, dynamic rope) still has every tensor checked before prune or merge-lora writes it. Nil when
    /// the family has no engine or refuses the config on other grounds: then only the description's tensors
    /// (embeddings, routers, experts alike) are checked.
    static func layoutSpec(for checkpoint: Checkpoint, model: ModelDescription) -> EngineSpec? {
        guard let build = all[model.modelType], var config = checkpoint.config else { return nil }
        config.set("hidden_act", .string("silu"))
        config.set("rope_parameters", .object([("rope_type", .string("default")), ("rope_theta", .number("10000"))]))
        config.set("rope_scaling", .null)
        return try? build(Array(config.serialized(indent: nil).utf8), checkpoint.configPath)
    }
}
