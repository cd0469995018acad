import XCTest
@testable import MoESlimFormats

/// The header fast path against the strict parser: the same tables when it accepts, and the strict path's
/// exact handling of everything it hands over.
final class SafeTensorsFastPathTests: XCTestCase {
    private func header(_ json: String, data: Int) throws -> SafeTensorsHeader {
        let bytes = Array(json.utf8)
        return try bytes.withUnsafeBytes { try SafeTensorsHeader(headerBytes: $0, fileSize: 8 + bytes.count + data, path: "x") }
    }

    private func fastPathTakes(_ json: String) -> Bool {
        let region = Array(json.utf8).withUnsafeBytes { ByteRegion(copying: $0) }
        return HeaderFastPath.scan(region.bytes, in: region) != nil
    }

    func testUnsortedOffsetsAndEmptyTensorsComeOutInDataOrderTiesInHeaderOrder() throws {
        let json = """
            {"c":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},"z":{"dtype":"U8","shape":[0],"data_offsets":[4,4]},\
            "a":{"dtype":"U8","shape":[0],"data_offsets":[4,4]},"b":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}
            """
        XCTAssertTrue(fastPathTakes(json))
        let parsed = try header(json, data: 12)
        XCTAssertEqual(parsed.names, ["b", "z", "a", "c"])
        XCTAssertEqual(parsed.tensor(named: "c")?.shape, [2])
        XCTAssertNil(parsed.tensor(named: "d"))
    }

    /// Escapes and non-ASCII names go to the strict parser, which decodes them; lookups then find the decoded name.
    func testNamesTheFastPathHandsOverAreDecodedAndFound() throws {
        for json in [#"{"\u0061b":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#, #"{"ab":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#] {
            let parsed = try header(json, data: 1)
            XCTAssertEqual(parsed.names, ["ab"], json)
            XCTAssertEqual(parsed.tensor(named: "ab")?.end, 1, json)
        }
        XCTAssertFalse(fastPathTakes(#"{"caf\#u{E9}":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#))
        XCTAssertEqual(try header(#"{"caf\#u{E9}":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#, data: 1).tensor(named: "caf\u{E9}")?.end, 1)
    }

    /// Canonically equivalent spellings are two names, as in the reference (Rust compares bytes): each is its
    /// own tensor, found by its own bytes only.
    func testCanonicallyEquivalentNamesAreTwoTensors() throws {
        let json = #"{"\#u{E9}":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"e\#u{301}":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#
        let parsed = try header(json, data: 2)
        XCTAssertEqual(parsed.count, 2)
        XCTAssertEqual(parsed.tensor(named: "\u{E9}")?.end, 1)
        XCTAssertEqual(parsed.tensor(named: "e\u{301}")?.end, 2)
    }

    func testPlainVariationsStayOnTheFastPath() {
        XCTAssertTrue(fastPathTakes(#"{ "__metadata__" : { "format" : "pt" } , "a" : { "shape" : [ 2 , 3 ] , "data_offsets" : [ 0 , 6 ] , "dtype" : "U8" } }"#))
        XCTAssertTrue(fastPathTakes("{}"))
        for refused in [
            #"{"a":{"dtype":"U8","shape":[01],"data_offsets":[0,1]}}"#,
            #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[0],"data_offsets":[1,1]}}"#,
            #"{"a":{"dtype":"U8","shape":[1],"dtype":"U8","data_offsets":[0,1]}}"#,
            #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,2]}}"#,
            #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},}"#,
            "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}\u{0}",
        ] {
            XCTAssertFalse(fastPathTakes(refused), refused)
        }
    }
}
