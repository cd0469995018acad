import Foundation

/// Where the committed fixtures are, found from this file so the tests run from any working directory.
enum FixturePaths {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures").path

    static func fixture(_ relative: String) -> String { root + "/" + relative }
}
