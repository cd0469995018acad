import Foundation
import MoESlimSupport

/// How many tokens a run will go through, so progress shows a true percentage and ETA. Counted by reading
/// (and tokenizing) the data once before the run when that takes a few seconds; when the data is larger, the
/// tokens per input byte seen so far give an estimate, and progress says which it is.
struct TokenTotal {
    var tokens: Int
    /// False when the total was estimated from the share of the input bytes read.
    var counted: Bool

    /// Tokenizing is hundreds of times faster than the forward pass; counting longer than this would
    /// still delay the first progress line noticeably.
    static let countingBudget: TimeInterval = 5

    /// `next` yields the token count of each record the run will see (from a second reader with the same
    /// options), `fractionRead` that reader's share of the input bytes read; `maxTokens` caps an estimate as it
    /// caps the run.
    static func measure(
        maxTokens: Int?, next: () throws(MoESlimError) -> Int?, fractionRead: () -> Double?
    ) throws(MoESlimError) -> TokenTotal {
        let deadline = Date().addingTimeInterval(countingBudget)
        var tokens = 0
        while let count = try next() {
            tokens += count
            // Past the budget, estimate only while most of the input is still unread: the file is read a
            // megabyte at a time, so a small input is "all read" long before it is all tokenized, and its
            // bytes say nothing about the tokens left. Counting such an input to the end costs at most about
            // as long again.
            if Date() > deadline, let f = fractionRead(), f > 0, f < 0.5 {
                let estimate = Int((Double(tokens) / f).rounded())
                return TokenTotal(tokens: min(estimate, maxTokens ?? .max), counted: false)
            }
        }
        return TokenTotal(tokens: tokens, counted: true)
    }
}
