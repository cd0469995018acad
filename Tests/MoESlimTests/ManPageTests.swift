import Foundation
import XCTest

/// The committed man pages (scripts/update-man.sh): every page has EXAMPLES, cross-references name only
/// pages that exist, and defaults are stated.
final class ManPageTests: XCTestCase {
    func testPagesHaveExamplesDefaultsAndExistingReferences() throws {
        let folder = FixturePaths.root + "/../man"
        let pages = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".1") }
        XCTAssertGreaterThan(pages.count, 10)
        for page in pages {
            let text = try String(contentsOfFile: folder + "/" + page, encoding: .utf8)
            XCTAssertTrue(text.contains("\n.Sh EXAMPLES\n"), page)
            for line in text.split(separator: "\n") where line.hasPrefix(".Xr ") {
                let name = line.split(separator: " ")[1]
                XCTAssertTrue(pages.contains("\(name).1"), "\(page) names \(name)")
            }
        }
        let prune = try String(contentsOfFile: folder + "/moe-slim.prune.1", encoding: .utf8)
        XCTAssertTrue(prune.contains("(default: layer)"))
        XCTAssertTrue(prune.contains("(default: hard)"))
        let calibrate = try String(contentsOfFile: folder + "/moe-slim.calibrate.1", encoding: .utf8)
        XCTAssertTrue(calibrate.contains(".It Fl -chat-template Ar file"))
    }
}
