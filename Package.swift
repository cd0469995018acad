// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "moe-slim",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "moe-slim", targets: ["moe-slim"]),
        .library(name: "MoESlim", targets: ["MoESlim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CJSONC", pkgConfig: "json-c", providers: [.apt(["libjson-c-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "CShims"),
        .target(name: "CKernels"),
        .target(
            name: "MoESlim",
            dependencies: ["CZstd", "CZlib", "COpenBLAS", "CJSONC", "CShims", "CKernels"]
        ),
        .executableTarget(
            name: "moe-slim",
            dependencies: ["MoESlim", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(
            name: "MoESlimTests",
            dependencies: ["MoESlim", "moe-slim"],
            resources: []
        ),
    ]
)
