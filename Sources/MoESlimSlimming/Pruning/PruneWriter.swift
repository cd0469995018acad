import Foundation
import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies

/// Writes a pruned checkpoint in the input's shape (file → file with config.json beside it, folder → folder
/// with the tokenizer and other files copied), then reopens the result and checks it against the plan before
/// it is renamed into place.
public struct PruneWriter {
    public let input: Checkpoint
    public let transform: PruneTransform
    public let destination: String
    public let sharding: Sharding
    public let force: Bool

    public init(input: Checkpoint, transform: PruneTransform, destination: String, sharding: Sharding, force: Bool) {
        self.input = input
        self.transform = transform
        self.destination = destination
        self.sharding = sharding
        self.force = force
    }

    /// Returns the files of the input folder that were not copied because they hold weights.
    @discardableResult
    public func write() throws(MoESlimError) -> [String] {
        let configBytes = Array((transform.config.serialized() + "\n").utf8)
        if input.isFolder {
            let writer = try CheckpointWriter(
                destination: destination, asFolder: true, sharding: sharding, metadata: transform.metadata,
                force: force, inputs: input.inputPaths, companionsFrom: input.folder)
            let companions = try CheckpointMembers.companionFiles(of: input.folder)
            let extras = companions.copied + [.init(name: "config.json", contents: configBytes)]
            try writer.write(transform.tensors, extraFiles: extras) { temp throws(MoESlimError) in
                try WrittenOutput.confirm(temp, holds: transform.tensors)
                try checkExpertCounts(Checkpoint(path: temp))
            }
            return companions.skipped
        } else {
            let outFolder = FileSystem.parent(destination)
            guard FileIdentity(at: outFolder) != FileIdentity(at: input.folder) else {
                throw MoESlimError(.invalidArgument, "a single-file output needs its own folder for config.json; write to another folder, or give model folders", path: destination)
            }
            let configPath = FileSystem.join(outFolder, "config.json")
            if FileSystem.exists(configPath) && !force {
                throw MoESlimError(.outputExists, "config.json already exists beside the output (use --force to replace it)", path: configPath)
            }
            let writer = try CheckpointWriter(
                destination: destination, asFolder: false, sharding: sharding, metadata: transform.metadata,
                force: force, inputs: input.inputPaths)
            let staged = try Temporary(beside: configPath, folder: false)
            defer { staged.remove() }
            try AtomicFile.fill(staged, with: configBytes)
            let stagedConfig = staged.path
            // config.json goes into place once the weights have verified and just before they are renamed; if
            // that rename fails, the previous config comes back, so the pair never disagrees on disk for long.
            let previousConfig = FileSystem.exists(configPath) ? try InputFile.read(configPath, as: .config) : nil
            do throws(MoESlimError) {
                try writer.write(transform.tensors) { temp throws(MoESlimError) in
                    try WrittenOutput.confirm(temp, configPath: stagedConfig, holds: transform.tensors)
                    try checkExpertCounts(Checkpoint(path: temp, configPath: stagedConfig))
                    try AtomicFile.write(configBytes, to: configPath)
                }
            } catch {
                if let previousConfig {
                    try? AtomicFile.write(previousConfig, to: configPath)
                } else {
                    try? FileManager.default.removeItem(atPath: configPath)
                }
                throw error
            }
            return []
        }
    }

    /// Beyond the generic checks: the written model must describe with the planned expert count per layer.
    private func checkExpertCounts(_ written: Checkpoint) throws(MoESlimError) {
        let model = try ModelFamilies.describe(written)
        for layer in model.moeLayers where transform.expertsPerLayer[layer.layer] != layer.numExperts {
            throw MoESlimError(.verifyFailed, "layer \(layer.layer) has \(layer.numExperts) experts after writing, planned \(transform.expertsPerLayer[layer.layer] ?? -1)", path: written.path)
        }
    }
}
