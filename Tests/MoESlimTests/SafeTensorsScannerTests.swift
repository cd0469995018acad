import XCTest
@testable import MoESlimFormats

/// The fast readers' building blocks: what they take must be read exactly as the strict parser reads it, and
/// anything else must be refused (nil), sending the caller to the strict parser.
final class SafeTensorsScannerTests: XCTestCase {
    private func natural(_ text: String, padding: Int) -> Int? {
        let bytes = Array(text.utf8) + [UInt8](repeating: UInt8(ascii: "]"), count: padding)
        return bytes.withUnsafeBytes { buffer in
            var scanner = PlainJSONScanner(buffer)
            return scanner.natural()
        }
    }

    /// With padding the eight-digit path runs, without it the digit-by-digit one; both must agree.
    func testNaturalsAsStrictJSONReadsThem() {
        let cases: [(String, Int?)] = [
            ("0", 0), ("7", 7), (" 42", 42), ("12345678", 12_345_678), ("123456789", 123_456_789),
            ("673162676232", 673_162_676_232), ("1234567890123456", 1_234_567_890_123_456),
            ("12345678901234567", 12_345_678_901_234_567), ("9223372036854775807", Int.max),
            ("9223372036854775808", nil), ("99999999999999999999", nil), ("00", nil), ("01", nil),
            ("-1", nil), ("1.0", nil), ("1e3", nil), ("1E3", nil), ("", nil), ("x", nil),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(natural(text, padding: 0), expected, "'\(text)' at the end")
            XCTAssertEqual(natural(text, padding: 20), expected, "'\(text)' with room after")
        }
    }

    func testPlainStringsRefuseWhatNeedsTheStrictParser() {
        func plain(_ text: String) -> String? {
            Array(text.utf8).withUnsafeBytes { buffer in
                var scanner = PlainJSONScanner(buffer)
                return scanner.plainString().map { String(decoding: $0, as: UTF8.self) }
            }
        }
        XCTAssertEqual(plain("\"model.layers.0.mlp.experts.17.down_proj.weight_scale_inv\","), "model.layers.0.mlp.experts.17.down_proj.weight_scale_inv")
        XCTAssertEqual(plain("  \"\""), "")
        XCTAssertEqual(plain("\"del\u{7F}\""), "del\u{7F}")
        XCTAssertNil(plain("\"escaped \\\" quote\""))
        XCTAssertNil(plain("\"caf\u{E9}\""))
        XCTAssertNil(plain("\"tab\there\""))
        XCTAssertNil(plain("\"a long name that never closes"))
        XCTAssertNil(plain("'single'"))
    }
}
