import Foundation
import XCTest

/// Runs the built `moe-slim` executable, as swift-argument-parser's own tests do, so exit codes and the
/// exact text users see are tested too.
enum CommandRunner {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Where SwiftPM put the products: beside the .xctest bundle on macOS, the bundle's own folder on Linux.
    static var executable: URL {
        #if os(macOS)
        let folder = Bundle.allBundles.first { $0.bundlePath.hasSuffix(".xctest") }!.bundleURL.deletingLastPathComponent()
        #else
        let folder = Bundle.main.bundleURL
        #endif
        return folder.appendingPathComponent("moe-slim")
    }

    /// `environment` adds to (or overrides) this process's environment for the child.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        try run(program: executable, arguments, environment: environment)
    }

    static func run(program: URL, _ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = program
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }
}
