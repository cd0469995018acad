import Foundation
import MoESlimSupport
import MoESlimEngine

/// Pushes calibration records through the forward pass a chunk at a time and sums what the routers do.
/// Records are whole sequences (never packed across a boundary); a chunk holds as many as fit the planner.
public struct Calibration {
    public struct Progress: Sendable {
        public var tokens: Int
        public var sequences: Int
        public var seconds: Double

        /// Adds a finished chunk and stamps the time since the run began.
        mutating func add(tokens: Int, sequences: Int, since start: Date) {
            self.tokens += tokens
            self.sequences += sequences
            seconds = Date().timeIntervalSince(start)
        }
    }

    public let pass: ForwardPass
    public let chunkTokens: Int

    public init(pass: ForwardPass, chunkTokens: Int) {
        self.pass = pass
        self.chunkTokens = max(1, chunkTokens)
    }

    /// `next` yields (tokens, group) until it returns nil; `progress` is called after every chunk.
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
            try runChunk(chunk, into: &counts)
            progress(Progress(tokens: counts.tokens, sequences: counts.sequences, seconds: Date().timeIntervalSince(start)))
        }
        return counts
    }

    /// Sequences of one group are run together so each routing record belongs to exactly one group.
    private func runChunk(_ chunk: [(tokens: [Int32], group: String?)], into counts: inout ExpertCounts) throws(MoESlimError) {
        var order: [String?] = []
        var byGroup: [ByteName?: [[Int32]]] = [:]
        for record in chunk {
            let key = record.group.map { ByteName($0) }
            if byGroup[key] == nil { order.append(record.group) }
            byGroup[key, default: []].append(record.tokens)
        }
        for group in order {
            let sequences = byGroup[group.map { ByteName($0) }] ?? []
            _ = try pass.run(sequences) { record in counts.add(record, group: group) }
            counts.sequences += sequences.count
            counts.tokens += sequences.reduce(0) { $0 + $1.count }
        }
    }
}
