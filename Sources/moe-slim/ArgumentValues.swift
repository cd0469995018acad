import ArgumentParser
import Foundation
import MoESlimSupport
import MoESlimText
import MoESlimEngine
import MoESlimSlimming

// The library's closed sets of choices, typed for the parser: it rejects anything else before a command runs,
// and --help, the man pages and shell completion list the values (CaseIterable gives `allValueStrings`).

extension ComputePrecision: ExpressibleByArgument {}
extension DataReaderOptions.Format: ExpressibleByArgument {}
extension ExpertSelection.Strategy: ExpressibleByArgument {}
extension ExpertMerge.Similarity: ExpressibleByArgument {}
extension MergeRounding: ExpressibleByArgument {}
extension BudgetSearchMethod: ExpressibleByArgument {}

/// Every size option (--memory, --max-shard-size, --max-record-bytes) is a ByteSize, parsed once by the parser;
/// defaults show in help as sizes are printed everywhere else.
extension ByteSize: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(parsing: argument)
    }

    public var defaultValueDescription: String { description }
}

/// A comma-separated list as one option value ("layer,global", "0.25,0.5"), as sweep takes its grid so one
/// run fits on one line; each item is parsed as `Value` parses it, and completion offers `Value`'s choices.
struct CommaSeparated<Value: ExpressibleByArgument>: ExpressibleByArgument {
    var values: [Value]

    init?(argument: String) {
        var values: [Value] = []
        for item in argument.split(separator: ",") {
            guard let value = Value(argument: item.trimmingCharacters(in: .whitespaces)) else { return nil }
            values.append(value)
        }
        guard !values.isEmpty else { return nil }
        self.values = values
    }

    static var allValueStrings: [String] { Value.allValueStrings }

    static var defaultCompletionKind: CompletionKind { Value.defaultCompletionKind }
}
