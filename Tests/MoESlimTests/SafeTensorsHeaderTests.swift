import XCTest
@testable import MoESlimFormats

final class SafeTensorsHeaderTests: XCTestCase {
    func testSmokeParsesEmptyHeader() throws {
        let bytes = Array("{}      ".utf8)
        let header = try bytes.withUnsafeBytes { try SafeTensorsHeader(headerBytes: $0, fileSize: 8 + bytes.count, path: "x") }
        XCTAssertEqual(header.tensors.count, 0)
    }
}
