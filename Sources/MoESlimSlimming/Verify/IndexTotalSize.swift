import MoESlimSupport

/// `metadata.total_size` in model.safetensors.index.json against the shards. transformers writes it as the sum of
/// the tensors' data bytes (huggingface_hub's split_torch_state_dict_into_shards adds up each storage once).
///
/// A mismatch is a warning, not a problem: transformers and safetensors never read the value when loading, so
/// the model loads exactly as before, and indexes on the Hub written by older or third-party tools sometimes
/// disagree. It still says the index was not written for these shards, and tools that size downloads or
/// memory from it will be wrong, so verify shows it.
enum IndexTotalSize {
    static func warning(_ index: JSONValue, indexPath: String, tensorBytes: Int) -> MoESlimError? {
        guard let metadata = index["metadata"], let value = metadata["total_size"] else { return nil }
        guard let stated = value.intValue, stated >= 0 else {
            return MoESlimError(.invalidIndex, "metadata.total_size is \(value.serialized(indent: nil)), not a byte count", path: indexPath)
        }
        guard stated != tensorBytes else { return nil }
        return MoESlimError(
            .invalidIndex,
            "metadata.total_size is \(stated) but the shards' tensors hold \(tensorBytes) bytes (\(stated > tensorBytes ? "+" : "")\(stated - tensorBytes))",
            path: indexPath)
    }
}
