import ArgumentParser
import MoESlimSupport
import MoESlimFormats

/// Options every command that writes a checkpoint shares.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Replace an existing output (it is swapped out only once the new one is complete).")
    var force = false

    @Option(help: ArgumentHelp("Shard the output up to this size (5GB = 5e9 bytes, 2GiB = 2^31); default: keep the input's sharding.", valueName: "size"))
    var maxShardSize: ByteSize?

    var sharding: Sharding {
        maxShardSize.map { .maxBytes($0.bytes) } ?? .keepInput
    }
}
