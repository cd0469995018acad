/// One unit of model input: token ids ready for the engine, with the group it counts under (`--group-by`)
/// and where it came from, so later errors can point at the input line.
public struct CalibrationRecord: Sendable, Equatable {
    public var tokens: [Int32]
    public var group: String?
    public var path: String
    public var line: Int

    public init(tokens: [Int32], group: String? = nil, path: String, line: Int) {
        self.tokens = tokens
        self.group = group
        self.path = path
        self.line = line
    }
}
