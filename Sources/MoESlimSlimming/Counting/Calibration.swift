import Foundation
import MoESlimSupport
import MoESlimEngine

/// Pushes calibration records through the forward pass a chunk at a time and sums what the routers do.
/// Records are whole sequences (never packed across a boundary); a chunk holds as many as fit the planner.
public struct Calibration {
    public struct Progress: Sendable {
        /// Tokens of the finished chunks.
        public var tokens: Int
        public var sequences: Int
        public var seconds: Double
        /// The share of the running chunk's work already done, in tokens: its tokens times the share of its
        /// layers (of every model it runs through) that have run; 0 between chunks.
        public var runningTokens: Double = 0

        /// Adds a finished chunk and stamps the time since the run began.
        mutating func add(tokens: Int, sequences: Int, since start: Date) {
            self.tokens += tokens
            self.sequences += sequences
            seconds = Date().timeIntervalSince(start)
        }
    }

    public let pass: ForwardPass
    public let chunkTokens: Int
    /// The statistics to sum: all of them, except when bench/statistics_bench.sh times hard counts alone (then
    /// the counts are not a file to write: the other statistics stay zero).
    public var statistics = ExpertStatistic.allCases

    public init(pass: ForwardPass, chunkTokens: Int) {
        self.pass = pass
        self.chunkTokens = max(1, chunkTokens)
    }

    /// `next` yields (tokens, group) until it returns nil; `progress` is called after every decoder layer of
    /// every chunk, with the running chunk's share done, and after every chunk.
    public func run(
        settings: [ByteName: String], next: () throws(MoESlimError) -> (tokens: [Int32], group: String?)?,
        progress: (Progress) -> Void = { _ in }
    ) throws(MoESlimError) -> ExpertCounts {
        var counts = ExpertCounts(model: pass.model, settings: settings)
        let start = Date()
        var pending: (tokens: [Int32], group: String?)? = try next()
        while pending != nil {
            var chunk: [(tokens: [Int32], group: String?)] = []
            var size = 0
            while let record = pending, chunk.isEmpty || size + record.tokens.count <= chunkTokens {
                if !record.tokens.isEmpty {
                    chunk.append(record)
                    size += record.tokens.count
                }
                pending = try next()
            }
            guard !chunk.isEmpty else { break }
            let before = Progress(tokens: counts.tokens, sequences: counts.sequences, seconds: 0)
            try runChunk(chunk, into: &counts) { running in
                var p = before
                p.runningTokens = running
                p.seconds = Date().timeIntervalSince(start)
                progress(p)
            }
            progress(Progress(tokens: counts.tokens, sequences: counts.sequences, seconds: Date().timeIntervalSince(start)))
        }
        return counts
    }

    /// Sequences of one group are run together so each routing record belongs to exactly one group.
    /// `running` hears, after each layer, how many of the chunk's tokens that work amounts to.
    private func runChunk(
        _ chunk: [(tokens: [Int32], group: String?)], into counts: inout ExpertCounts, running: (Double) -> Void
    ) throws(MoESlimError) {
        var order: [String?] = []
        var byGroup: [ByteName?: [[Int32]]] = [:]
        for record in chunk {
            let key = record.group.map { ByteName($0) }
            if byGroup[key] == nil { order.append(record.group) }
            byGroup[key, default: []].append(record.tokens)
        }
        var finished = 0
        let layers = Double(pass.layersRun)
        for group in order {
            let sequences = byGroup[group.map { ByteName($0) }] ?? []
            let tokens = sequences.reduce(0) { $0 + $1.count }
            _ = try pass.run(sequences, observe: { record in counts.add(record, group: group, statistics: statistics) }) { layer in
                running(Double(finished) + Double(tokens) * Double(layer + 1) / layers)
            }
            finished += tokens
        }
        counts.sequences += chunk.count
        counts.tokens += finished
    }
}
