import MoESlimSupport

/// A GGUF model: one file, or the parts of a split one (`<name>-00001-of-00003.gguf`, written by
/// llama.cpp's gguf-split), each part checked on its own and then against the others. The first part holds
/// the model's metadata; every part holds its own tensors, offsets counted from its own data section.
public final class GGUFModel: @unchecked Sendable {
    public let path: String
    public let parts: [GGUFFile]
    /// Every tensor in part order, with the part that holds it.
    public let tensors: [(part: Int, info: GGUFTensorInfo)]
    private let index: [ByteName: Int]

    public convenience init(path: String) throws(MoESlimError) {
        try self.init(path: path, partPaths: Self.partPaths(of: path))
    }

    /// The files at `names`, in part order, read as the model `path`: a split written to temporaries is checked
    /// this way before its parts take their names.
    package init(path: String, partPaths names: [String]) throws(MoESlimError) {
        self.path = path
        var parts: [GGUFFile] = []
        for name in names {
            guard names.count == 1 || FileSystem.exists(name) else {
                throw MoESlimError(.invalidHeader, "split part is missing (the split has \(names.count) parts)", path: name)
            }
            parts.append(try GGUFFile(path: name))
        }
        try Self.checkSplit(parts, names: names)
        var tensors: [(part: Int, info: GGUFTensorInfo)] = []
        var index: [ByteName: Int] = [:]
        for (p, file) in parts.enumerated() {
            for info in file.header.tensors {
                guard index.updateValue(tensors.count, forKey: ByteName(info.name)) == nil else {
                    throw MoESlimError(.invalidHeader, "appears in more than one split part", path: file.path, tensor: info.name)
                }
                tensors.append((p, info))
            }
        }
        if parts.count > 1, let stated = parts[0].header.value("split.tensors.count")?.int, stated != tensors.count {
            throw MoESlimError(.invalidHeader, "split.tensors.count is \(stated) but the \(parts.count) parts hold \(tensors.count) tensors", path: parts[0].path)
        }
        self.parts = parts
        self.tensors = tensors
        self.index = index
    }

    public var metadata: [GGUFKeyValue] { parts[0].header.metadata }

    public func value(_ key: String) -> GGUFValue? { parts[0].header.value(key) }

    public func tensor(_ name: String) -> (part: Int, info: GGUFTensorInfo)? {
        index[ByteName(name)].map { tensors[$0] }
    }

    public var isSplit: Bool { parts.count > 1 }

    public var architecture: String? { value("general.architecture")?.text }

    /// `{arch}.<suffix>` as an integer.
    public func archInt(_ suffix: String) -> Int? {
        guard let arch = architecture else { return nil }
        return value("\(arch).\(suffix)")?.int
    }

    public var totalBytes: Int { tensors.reduce(0) { $0 + $1.info.byteCount } }

    /// `<prefix>-<i>-of-<n>.gguf` with five-digit numbers names part i of n; any part stands for them all.
    package static func partPaths(of path: String) throws(MoESlimError) -> [String] {
        let bytes = Array(path.utf8)
        let tail = Array("-00000-of-00000.gguf".utf8)
        guard bytes.count > tail.count else { return [path] }
        let suffix = bytes[(bytes.count - tail.count)...]
        let shapeMatches = zip(suffix, tail).allSatisfy { a, t in t == UInt8(ascii: "0") ? (a >= 0x30 && a <= 0x39) : a == t }
        guard shapeMatches else { return [path] }
        let start = bytes.count - tail.count
        let n = Int(String(decoding: bytes[(start + 10)..<(start + 15)], as: UTF8.self))!
        let i = Int(String(decoding: bytes[(start + 1)..<(start + 6)], as: UTF8.self))!
        guard n >= 1, i >= 1, i <= n else {
            throw MoESlimError(.invalidHeader, "names split part \(i) of \(n), which cannot be", path: path)
        }
        let prefix = String(decoding: bytes[..<start], as: UTF8.self)
        return (1...n).map { "\(prefix)-\(fiveDigits($0))-of-\(fiveDigits(n)).gguf" }
    }

    /// Every part says which part it is and how many there are, as its name does.
    private static func checkSplit(_ parts: [GGUFFile], names: [String]) throws(MoESlimError) {
        for (i, file) in parts.enumerated() {
            let count = file.header.value("split.count")?.int
            let number = file.header.value("split.no")?.int
            if parts.count == 1 {
                if let count, count > 1 {
                    throw MoESlimError(.invalidHeader, "split.count is \(count), but the file is not named as part of a split (<name>-00001-of-\(fiveDigits(count)).gguf)", path: file.path)
                }
                continue
            }
            guard count == parts.count else {
                throw MoESlimError(.invalidHeader, "split.count is \(count.map(String.init) ?? "missing") but the file name says \(parts.count) parts", path: file.path)
            }
            guard number == i else {
                throw MoESlimError(.invalidHeader, "split.no is \(number.map(String.init) ?? "missing") but the file name says part \(i + 1) of \(parts.count) (split.no counts from 0)", path: file.path)
            }
        }
    }

    /// `%05d`, as gguf-split numbers its parts.
    package static func fiveDigits(_ n: Int) -> String {
        let s = String(n)
        return String(repeating: "0", count: max(0, 5 - s.count)) + s
    }
}
