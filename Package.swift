// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "moe-slim",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "moe-slim", targets: ["moe-slim"]),
        .library(
            name: "MoESlim",
            targets: ["MoESlimSupport", "MoESlimFormats", "MoESlimFamilies", "MoESlimText", "MoESlimEngine", "MoESlimSlimming"]
        ),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CJSONC", pkgConfig: "json-c", providers: [.apt(["libjson-c-dev"])]),
        .target(name: "CShims"),
        .target(name: "CKernels"),
        // The library's layers, lowest first. A target depends only on the ones above it in this list, so an
        // arrow that runs back (a format reader calling the pruner, the engine reading counts) does not compile.
        // Declarations shared between layers are `package`; `public` is the API the command-line tool uses.
        // Errors, JSON reading and writing, byte names, sizes, bounded input files.
        .target(name: "MoESlimSupport"),
        // Format I/O: safetensors reading and writing, sharding, atomic outputs, temporaries, signal handlers.
        .target(name: "MoESlimFormats", dependencies: ["MoESlimSupport", "CShims"]),
        // What a checkpoint is: the family descriptions and their registry, tensor roles, the forward-pass
        // spec each family states, the shape check, adapter name maps and pruning plans.
        .target(name: "MoESlimFamilies", dependencies: ["MoESlimSupport", "MoESlimFormats"]),
        // Text: the tokenizer and the data readers (JSON Lines, json-c, zstd), with multiple-choice encoding.
        .target(name: "MoESlimText", dependencies: ["MoESlimSupport", "CJSONC", "CZstd", "CKernels"]),
        // The forward pass: attention, routers, experts, kernels.
        .target(name: "MoESlimEngine", dependencies: ["MoESlimSupport", "MoESlimFormats", "MoESlimFamilies", "CKernels", "COpenBLAS"]),
        // Slimming: expert counts, pruning, LoRA merging, reports, evaluation, verification.
        .target(
            name: "MoESlimSlimming",
            dependencies: ["MoESlimSupport", "MoESlimFormats", "MoESlimFamilies", "MoESlimText", "MoESlimEngine", "CKernels"]
        ),
        .executableTarget(
            name: "moe-slim",
            dependencies: [
                "MoESlimSupport", "MoESlimFormats", "MoESlimFamilies", "MoESlimText", "MoESlimEngine", "MoESlimSlimming",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "MoESlimTests",
            dependencies: [
                "MoESlimSupport", "MoESlimFormats", "MoESlimFamilies", "MoESlimText", "MoESlimEngine", "MoESlimSlimming",
                "moe-slim", "CKernels",
            ],
            resources: []
        ),
    ]
)
