/// How output tensors are spread over files.
public enum Sharding: Sendable, Equatable {
    /// One file per input shard, tensors staying with their source shard.
    case keepInput
    /// Greedy fill up to a byte budget, as transformers' save_pretrained does; a larger tensor sits alone.
    case maxBytes(Int)

    /// Groups tensor indices into shards, in order.
    func assign(_ tensors: [OutputTensor]) -> [[Int]] {
        switch self {
        case .keepInput:
            let hints = Array(Set(tensors.map(\.shardHint))).sorted()
            return hints.map { h in tensors.indices.filter { tensors[$0].shardHint == h } }
        case .maxBytes(let limit):
            var shards: [[Int]] = []
            var current: [Int] = []
            var size = 0
            for (i, t) in tensors.enumerated() {
                if !current.isEmpty && size + t.byteCount > limit {
                    shards.append(current)
                    current = []
                    size = 0
                }
                current.append(i)
                size += t.byteCount
            }
            if !current.isEmpty || shards.isEmpty { shards.append(current) }
            return shards
        }
    }

    static func shardName(_ i: Int, of count: Int) -> String {
        guard count > 1 else { return "model.safetensors" }
        func five(_ n: Int) -> String {
            let s = String(n)
            return String(repeating: "0", count: max(0, 5 - s.count)) + s
        }
        return "model-\(five(i + 1))-of-\(five(count)).safetensors"
    }
}

import Foundation
