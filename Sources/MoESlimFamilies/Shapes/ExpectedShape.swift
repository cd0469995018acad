/// A shape the config implies, dimension by dimension. Some widths are not in the config in every family (an
/// expert's intermediate size): those come from the first tensor that holds them, and any tensor that must
/// agree with it is held to the same number.
struct ExpectedShape: CustomStringConvertible {
    enum Dim {
        case size(Int)
        /// Not stated anywhere the checker can read: any size is accepted.
        case any(String)
        /// Gate and up fused: any even size.
        case even(String)

        func accepts(_ n: Int) -> Bool {
            switch self {
            case .size(let size): return n == size
            case .any: return true
            case .even: return n % 2 == 0
            }
        }
    }

    var dims: [Dim]

    init(_ dims: Dim...) { self.dims = dims }

    func accepts(_ shape: some Collection<Int>) -> Bool {
        shape.count == dims.count && zip(dims, shape).allSatisfy { $0.accepts($1) }
    }

    var description: String {
        "[" + dims.map { dim in
            switch dim {
            case .size(let n): return String(n)
            case .any(let label), .even(let label): return label
            }
        }.joined(separator: ", ") + "]"
    }
}
