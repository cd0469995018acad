/// What one template may build, beyond the renderer's limits on loops, output and macro recursion. A chat
/// template comes from the internet with the model, and a few characters of Jinja can ask for terabytes
/// (`"x" * 10**12`, a string or list doubled in a loop, `replace` or `join` with a long piece) or nest lists
/// so deep that comparing, printing or freeing them overflows the stack. Every growing operation checks its
/// result's size before building it, containers nest at most `nesting` deep, and all the work a render does
/// (bytes and items its operations touch) is paid from one `JinjaFuel`, so a hostile template ends with an
/// error naming the bound instead of a crash or a hang.
enum JinjaBounds {
    /// Bytes of one string value: 16 MiB, far beyond any real chat template's needs.
    static let stringBytes = 1 << 24
    /// Items of one list or dict.
    static let listItems = 1 << 20
    /// Containers inside containers (messages → content parts → a part is three).
    static let nesting = 32

    /// `count` bytes fit in a string value.
    static func checkString(_ count: Int) throws(ChatTemplateFailure) {
        guard count <= stringBytes else { throw ChatTemplateFailure("a string longer than \(stringBytes) bytes") }
    }

    static func checkItems(_ count: Int) throws(ChatTemplateFailure) {
        guard count <= listItems else { throw ChatTemplateFailure("a list longer than \(listItems) items") }
    }

    /// `a + b` for sizes already bounded, refused when over the string bound.
    static func stringSum(_ a: Int, _ b: Int) throws(ChatTemplateFailure) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        guard !overflow else { throw ChatTemplateFailure("a string longer than \(stringBytes) bytes") }
        try checkString(sum)
        return sum
    }

    /// Refuses a value whose containers nest deeper than `nesting`, counting `level` containers around it;
    /// every container and item visited is paid from `fuel`, so shared sub-lists cannot make the check itself
    /// exponential. A namespace counts as a container, so a namespace stored inside itself is refused too.
    static func checkNesting(_ value: JinjaValue, level: Int = 0, fuel: JinjaFuel) throws(ChatTemplateFailure) {
        try fuel.spend(JinjaFuel.perValue)
        switch value {
        case .list(let items):
            try enter(level)
            for item in items { try checkNesting(item, level: level + 1, fuel: fuel) }
        case .dict(let pairs):
            try enter(level)
            for pair in pairs { try checkNesting(pair.value, level: level + 1, fuel: fuel) }
        case .namespace(let ns):
            try enter(level)
            for pair in ns.attributes { try checkNesting(pair.value, level: level + 1, fuel: fuel) }
        case .method(let receiver, _):
            try checkNesting(receiver, level: level, fuel: fuel)
        default: break
        }
    }

    private static func enter(_ level: Int) throws(ChatTemplateFailure) {
        guard level < nesting else { throw ChatTemplateFailure("lists, dicts or namespaces nested more than \(nesting) deep") }
    }

    /// The first `needle` in `haystack` at or after `start`, in linear time (Knuth–Morris–Pratt), so `in`,
    /// `split` and `replace` on long strings cannot take quadratic time.
    static func find(_ haystack: [UInt8], _ needle: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty else { return start }
        guard start >= 0, start <= haystack.count, needle.count <= haystack.count - start else { return nil }
        var fallback = [Int](repeating: 0, count: needle.count)
        var k = 0
        for i in needle.indices.dropFirst() {
            while k > 0, needle[i] != needle[k] { k = fallback[k - 1] }
            if needle[i] == needle[k] { k += 1 }
            fallback[i] = k
        }
        k = 0
        for i in start..<haystack.count {
            while k > 0, haystack[i] != needle[k] { k = fallback[k - 1] }
            if haystack[i] == needle[k] { k += 1 }
            if k == needle.count { return i - needle.count + 1 }
        }
        return nil
    }
}

/// The work one render may do, in bytes and items touched; shared by everything the render calls.
final class JinjaFuel {
    private(set) var remaining: Int
    let budget: Int
    /// What visiting one value costs against a byte copied: a value is a call, a copy and a retain, tens of
    /// nanoseconds, where bytes move by the nanosecond.
    static let perValue = 64

    init(budget: Int) {
        self.budget = budget
        remaining = budget
    }

    func spend(_ units: Int) throws(ChatTemplateFailure) {
        remaining -= min(units, remaining)
        guard remaining > 0 else { throw ChatTemplateFailure("the template does more than \(budget) steps of work") }
    }

    /// The size an operation on `value` may touch: a string's bytes, a container's items, else 1.
    static func size(_ value: JinjaValue) -> Int {
        switch value {
        case .string(let s): s.utf8.count
        case .list(let items): items.count
        case .dict(let pairs): pairs.count
        case .method(let receiver, _): size(receiver)
        default: 1
        }
    }
}
