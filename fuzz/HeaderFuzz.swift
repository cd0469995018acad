import Foundation

/// libFuzzer entry point. The first byte picks the reader, the rest is its input: 0 a whole safetensors file
/// (length, header, data), 1 a model.safetensors.index.json beside valid shards, 2 a config.json beside a valid
/// model, 3 header JSON for the fast path, which must agree with the strict parser whenever it accepts, 4 a counts
/// file (formats/counts.md) through every rule the file alone can show, 5 a GGUF file (formats/gguf.md): its header,
/// then, when that passes, the model reading and the imatrix reading of the same file, 6 a chat template
/// (Jinja) rendered over a short conversation, as a model's chat_template.jinja is.
/// Errors are the expected outcome; only a trap, a sanitizer report or a hang is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func headerFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    guard let mode = input.first else { return 0 }
    let body = UnsafeRawBufferPointer(rebasing: input[1...])
    switch mode % 7 {
    case 0:
        _ = try? SafeTensorsHeader.parse(file: body, path: "fuzz")
    case 1:
        FuzzFolders.shared.replace(Checkpoint.indexName, in: FuzzFolders.shared.indexed, with: body)
        _ = try? Checkpoint(path: FuzzFolders.shared.indexed)
    case 3:
        FastPathAgreement.check(body)
    case 5:
        if (try? GGUFHeader.parse(body, path: "fuzz")) != nil {
            FuzzFolders.shared.replace("fuzz.gguf", in: FuzzFolders.shared.configured, with: body)
            let path = FuzzFolders.shared.configured + "/fuzz.gguf"
            if let model = try? GGUFModel(path: path) { _ = try? GGUFArchitectures.describe(model) }
            _ = try? ImatrixCounts.load(path)
        }
    case 6:
        if let source = String(validating: body, as: UTF8.self),
           let template = try? ChatTemplate(source: source, path: "fuzz", specialTokens: [("bos_token", "<s>")]) {
            _ = try? template.render(messages: FuzzConversation.messages, maxBytes: 1 << 20)
        }
    case 4:
        if let json = try? JSONParser.parse(body), let counts = try? ExpertCounts(json: json, path: "fuzz") {
            _ = try? CountsRules.check(counts, path: "fuzz")
        }
    default:
        FuzzFolders.shared.replace("config.json", in: FuzzFolders.shared.configured, with: body)
        if let checkpoint = try? Checkpoint(path: FuzzFolders.shared.configured) {
            _ = try? ModelFamilies.describe(checkpoint)
        }
    }
    return 0
}

/// A conversation with every role and a content-parts message, for the template mode; made per input, as a
/// static made on first use would count as a leak of whichever input came first.
enum FuzzConversation {
    static var messages: JinjaValue { .list([
        .dict([("role", .string("system")), ("content", .string("Be brief."))]),
        .dict([("role", .string("user")), ("content", .string("hi <think>x</think> there"))]),
        .dict([("role", .string("assistant")), ("content", .list([.dict([("type", .string("text")), ("text", .string("ok"))])]))]),
    ]) }
}

/// Two copies of the valid tiny model (MOESLIM_FUZZ_MODEL), one whose index and one whose config each run
/// overwrites, made once per process.
final class FuzzFolders: @unchecked Sendable {
    static let shared = FuzzFolders()
    let indexed: String
    let configured: String

    private init() {
        let model = ProcessInfo.processInfo.environment["MOESLIM_FUZZ_MODEL"] ?? "fixtures/valid/tiny-mixtral"
        let root = NSTemporaryDirectory() + "moe-slim-fuzz-\(getpid())"
        indexed = root + "/indexed"
        configured = root + "/configured"
        let files = FileManager.default
        try? files.removeItem(atPath: root)
        do {
            try files.createDirectory(atPath: root, withIntermediateDirectories: true)
            try files.copyItem(atPath: model, toPath: indexed)
            try files.copyItem(atPath: model, toPath: configured)
        } catch {
            fatalError("cannot prepare the fuzz folders from \(model): \(error)")
        }
    }

    func replace(_ name: String, in folder: String, with bytes: UnsafeRawBufferPointer) {
        FileManager.default.createFile(atPath: folder + "/" + name, contents: Data(bytes))
    }
}

/// The fast header path may refuse anything, but what it accepts the strict JSON parser must read the same way,
/// and its name index must find every tensor it read.
enum FastPathAgreement {
    static func check(_ body: UnsafeRawBufferPointer) {
        let region = ByteRegion(copying: body)
        guard let fast = HeaderFastPath.scan(region.bytes, in: region) else { return }
        guard let json = try? JSONParser.parse(body), let members = json.objectMembers else {
            fatalError("fast path accepted a header the strict parser refuses")
        }
        let entries = members.filter { $0.key != "__metadata__" }
        let table = fast.table
        guard entries.count == table.count else { fatalError("fast path found \(table.count) tensors, strict \(entries.count)") }
        for (i, (name, value)) in entries.enumerated() {
            let info = table.info(at: i)
            let offsets = value["data_offsets"]?.arrayValue?.compactMap(\.intValue)
            guard name == info.name, value["dtype"]?.stringValue == info.dtype.rawValue,
                  value["shape"]?.arrayValue?.compactMap(\.intValue) == info.shape,
                  offsets == [info.begin, info.end], value.objectMembers?.count == 3 else {
                fatalError("fast path read tensor '\(info.name)' differently")
            }
            guard table.position(of: name) == i else { fatalError("fast path index does not find tensor '\(name)'") }
        }
        let metadata = json["__metadata__"]?.objectMembers?.map { "\($0.key)=\($0.value.stringValue ?? "<not a string>")" }
        guard metadata == fast.metadata?.map({ "\($0.key)=\($0.value)" }) else { fatalError("fast path read __metadata__ differently") }
    }
}
