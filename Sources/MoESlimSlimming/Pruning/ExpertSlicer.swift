import MoESlimSupport
import MoESlimFormats

/// Byte ranges of the kept slices of a tensor along its expert axis. Row-major layout makes each kept slice a
/// run of whole bytes (checked), so pruning is a sequence of range copies, never a decode.
enum ExpertSlicer {
    static func ranges(
        of info: TensorInfo, fileOffset: Int, axis: Int, kept: [Int], path: String
    ) throws(MoESlimError) -> (shape: [Int], ranges: [Range<Int>]) {
        let outer = info.shape[..<axis].reduce(1, *)
        let axisLength = info.shape[axis]
        let innerElements = info.shape[(axis + 1)...].reduce(1, *)
        let innerBits = innerElements * info.dtype.bits
        guard innerBits % 8 == 0 else {
            throw MoESlimError(.invalidTensor, "one expert's slice is not a whole number of bytes", path: path, tensor: info.name)
        }
        let slice = innerBits / 8
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(outer * kept.count)
        for o in 0..<outer {
            for k in kept {
                let start = fileOffset + (o * axisLength + k) * slice
                ranges.append(start..<(start + slice))
            }
        }
        var shape = info.shape
        shape[axis] = kept.count
        return (shape, ranges)
    }
}
