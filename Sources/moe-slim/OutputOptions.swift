import ArgumentParser
import MoESlim

/// Options every command that writes a checkpoint shares.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Replace an existing output (it is swapped out only once the new one is complete).")
    var force = false

    @Option(help: "Shard the output up to this size (5GB = 5e9 bytes, 2GiB = 2^31); default: keep the input's sharding.")
    var maxShardSize: String?

    func sharding() throws -> Sharding {
        guard let maxShardSize else { return .keepInput }
        guard let bytes = Sharding.parseSize(maxShardSize) else {
            throw ValidationError("--max-shard-size '\(maxShardSize)' is not a size such as 5GB or 500MB")
        }
        return .maxBytes(bytes)
    }
}
