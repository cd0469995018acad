import CKernels

/// Log-probabilities of one row of logits, in Double: perplexities over millions of tokens are sums of
/// many small terms, and Float accumulation would drift from the reference.
package enum LogSoftmax {
    package static func row(_ logits: UnsafeBufferPointer<Float>) -> [Double] {
        var maximum = -Double.infinity
        for v in logits { maximum = max(maximum, Double(v)) }
        var sum = 0.0
        for v in logits { sum += _exp(Double(v) - maximum) }
        let shift = maximum + _log(sum)
        return logits.map { Double($0) - shift }
    }

    package static func row(_ logits: ArraySlice<Float>) -> [Double] {
        logits.withUnsafeBufferPointer { row($0) }
    }

    /// log Σ exp over the row, so one token's log-probability costs no row of Doubles.
    package static func logSumExp(_ logits: ArraySlice<Float>) -> Double {
        logits.withUnsafeBufferPointer { row in row.baseAddress.map { moe_log_sum_exp($0, row.count) } ?? -.infinity }
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) package func _exp(_ x: Double) -> Double { Glibc.exp(x) }
@inline(__always) func _log(_ x: Double) -> Double { Glibc.log(x) }
#elseif canImport(Darwin)
import Darwin
@inline(__always) package func _exp(_ x: Double) -> Double { Darwin.exp(x) }
@inline(__always) func _log(_ x: Double) -> Double { Darwin.log(x) }
#endif
