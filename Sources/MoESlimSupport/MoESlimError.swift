/// One error type for the whole tool, shaped after swift-nio's FileSystemError: a stable code that scripts and
/// tests can match, a message for people, the path and tensor it concerns, an optional underlying cause, and the
/// source location that raised it so bug reports point at the right check. The description is what users read
/// and tests match; the debug description adds the source location (printed with MOE_SLIM_DEBUG=1). Both escape
/// control and bidirectional characters (EscapedText): messages echo names and values from hostile files.
public struct MoESlimError: Error, CustomStringConvertible, CustomDebugStringConvertible, Sendable {
    public enum Code: String, Sendable, CaseIterable {
        case io
        case invalidHeader
        case invalidTensor
        case invalidIndex
        case invalidConfig
        case unsupportedModel
        case invalidPlan
        case invalidCounts
        case invalidAdapter
        case invalidData
        case invalidTokenizer
        case invalidArgument
        case outputExists
        case verifyFailed

        /// Exit codes are grouped so that scripts can tell bad input (65, EX_DATAERR) from bad usage (64,
        /// EX_USAGE) and from the environment (74, EX_IOERR; 73, EX_CANTCREAT).
        public var exitCode: Int32 {
            switch self {
            case .io: return 74
            case .outputExists: return 73
            case .invalidArgument: return 64
            case .unsupportedModel: return 69
            default: return 65
            }
        }
    }

    public var code: Code
    public var message: String
    public var path: String?
    public var tensor: String?
    public var cause: (any Error & Sendable)?
    public var location: String

    public init(
        _ code: Code, _ message: String, path: String? = nil, tensor: String? = nil,
        cause: (any Error & Sendable)? = nil, fileID: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.path = path
        self.tensor = tensor
        self.cause = cause
        self.location = "\(fileID):\(line)"
    }

    public var description: String {
        var parts: [String] = []
        if let path { parts.append(path) }
        if let tensor { parts.append("tensor '\(tensor)'") }
        let prefix = parts.isEmpty ? "" : parts.joined(separator: ": ") + ": "
        var text = prefix + message
        if let cause { text += " (\(cause))" }
        return EscapedText.of(text)
    }

    /// The description followed by where the error was raised, as swift-nio's FileSystemError adds its source
    /// location to the detailed form: "path: message [raised at MoESlim/SafeTensors/Checkpoint.swift:42]".
    public var debugDescription: String {
        description + " [raised at \(location)]"
    }
}
