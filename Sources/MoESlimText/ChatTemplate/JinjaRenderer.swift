/// Renders parsed statements as Jinja's sandbox does for transformers' `apply_chat_template`, within bounds
/// on output size, loop iterations, macro recursion, the values an expression builds and the work done
/// (`JinjaBounds`), since templates and records are untrusted.
struct JinjaRenderer {
    struct Limits {
        var outputBytes: Int
        var iterations = 1_000_000
        var callDepth = 64
        /// Bytes and items all operations together may touch (`JinjaFuel`): about a second of work.
        var work = 1 << 28
    }

    private typealias Interrupt = JinjaInterrupt

    let limits: Limits
    private let fuel: JinjaFuel
    private var frames: [[String: JinjaValue]]
    private var output: [UInt8] = []
    private var iterations = 0
    private var callDepth = 0

    init(globals: [String: JinjaValue], limits: Limits) {
        self.limits = limits
        fuel = JinjaFuel(budget: limits.work)
        var builtins: [String: JinjaValue] = [:]
        for name in ["raise_exception", "namespace", "dict", "range"] { builtins[name] = .function(name) }
        frames = [builtins.merging(globals) { $1 }]
    }

    mutating func render(_ body: [JinjaStatement]) throws(ChatTemplateFailure) -> [UInt8] {
        do {
            try run(body)
        } catch {
            switch error {
            case .breakLoop, .continueLoop: throw ChatTemplateFailure("break or continue outside a loop")
            case .failure(let failure): throw failure
            }
        }
        return output
    }

    private func fail(_ reason: String) -> Interrupt { .failure(ChatTemplateFailure(reason)) }

    private mutating func emit(_ text: String) throws(Interrupt) {
        output.append(contentsOf: text.utf8)
        guard output.count <= limits.outputBytes else {
            throw fail("the rendered text is over \(limits.outputBytes) bytes")
        }
    }

    private func lookup(_ name: String) -> JinjaValue {
        for frame in frames.reversed() { if let v = frame[name] { return v } }
        return .undefined
    }

    private mutating func run(_ body: [JinjaStatement]) throws(Interrupt) {
        for statement in body {
            switch statement {
            case .text(let text): try emit(text)
            case .output(let expression): try emit(try string(try evaluate(expression)))
            case .conditional(let branches, let otherwise):
                var taken = false
                for (condition, branch) in branches where try evaluate(condition).truthy {
                    try run(branch)
                    taken = true
                    break
                }
                if !taken { try run(otherwise) }
            case .loop(let targets, let over, let filter, let body, let otherwise):
                try loop(targets: targets, over: over, filter: filter, body: body, otherwise: otherwise)
            case .assign(let name, let attribute, let expression):
                let value = try evaluate(expression)
                if let attribute {
                    guard case .namespace(let ns) = lookup(name) else {
                        throw fail("'\(name).\(attribute)' can be set only on a namespace()")
                    }
                    try checked(value, level: 1)
                    ns.set(attribute, value)
                } else {
                    frames[frames.count - 1][name] = value
                }
            case .assignBlock(let name, let body):
                frames[frames.count - 1][name] = .string(try capture(body))
            case .macro(let macro): frames[frames.count - 1][macro.name] = .macro(macro)
            case .breakLoop: throw .breakLoop
            case .continueLoop: throw .continueLoop
            case .generation(let body): try run(body)
            }
        }
    }

    private mutating func capture(_ body: [JinjaStatement]) throws(Interrupt) -> String {
        let saved = output
        output = []
        defer { output = saved }
        try run(body)
        return String(decoding: output, as: UTF8.self)
    }

    private mutating func loop(
        targets: [String], over: JinjaExpression, filter: JinjaExpression?, body: [JinjaStatement],
        otherwise: [JinjaStatement]
    ) throws(Interrupt) {
        var items = try iterate(try evaluate(over))
        if let filter {
            var kept: [JinjaValue] = []
            for item in items {
                frames.append(try bind(targets, item))
                defer { frames.removeLast() }
                if try evaluate(filter).truthy { kept.append(item) }
            }
            items = kept
        }
        if items.isEmpty {
            try run(otherwise)
            return
        }
        for (index, item) in items.enumerated() {
            iterations += 1
            guard iterations <= limits.iterations else { throw fail("more than \(limits.iterations) loop iterations") }
            var frame = try bind(targets, item)
            frame["loop"] = .dict([
                ("index", .int(index + 1)), ("index0", .int(index)), ("first", .bool(index == 0)),
                ("last", .bool(index == items.count - 1)), ("length", .int(items.count)),
                ("revindex", .int(items.count - index)), ("revindex0", .int(items.count - index - 1)),
                ("previtem", index > 0 ? items[index - 1] : .undefined),
                ("nextitem", index + 1 < items.count ? items[index + 1] : .undefined),
            ])
            frames.append(frame)
            defer { frames.removeLast() }
            do {
                try run(body)
            } catch .breakLoop {
                break
            } catch .continueLoop {
                continue
            }
        }
    }

    private func bind(_ targets: [String], _ item: JinjaValue) throws(Interrupt) -> [String: JinjaValue] {
        if targets.count == 1 { return [targets[0]: item] }
        guard case .list(let parts) = item, parts.count == targets.count else {
            throw fail("cannot unpack \(item.typeName) into \(targets.count) loop variables")
        }
        return Dictionary(uniqueKeysWithValues: zip(targets, parts))
    }

    private func iterate(_ value: JinjaValue) throws(Interrupt) -> [JinjaValue] {
        try spend(value)
        switch value {
        case .undefined: return []
        case .list(let items): return items
        case .dict(let pairs): return pairs.map { .string($0.key) }
        case .string(let s):
            try lift { () throws(ChatTemplateFailure) in try JinjaBounds.checkItems(s.unicodeScalars.count) }
            return s.unicodeScalars.map { .string(String($0)) }
        default: throw fail("cannot loop over a \(value.typeName)")
        }
    }

    // MARK: expressions

    private mutating func evaluate(_ expression: JinjaExpression) throws(Interrupt) -> JinjaValue {
        switch expression {
        case .literal(let v): return v
        case .name(let n): return lookup(n)
        case .attribute(let base, let name): return try attribute(try evaluate(base), name)
        case .item(let base, let index):
            let container = try evaluate(base)
            try spend(container)
            return try item(container, try evaluate(index))
        case .slice(let base, let start, let stop, let step):
            let container = try evaluate(base)
            try spend(container)
            return try slice(container, try start.map { e throws(Interrupt) in try evaluate(e) },
                             try stop.map { e throws(Interrupt) in try evaluate(e) },
                             try step.map { e throws(Interrupt) in try evaluate(e) })
        case .call(let callee, let arguments, let keywords):
            let f = try evaluate(callee)
            var args: [JinjaValue] = []
            for a in arguments { args.append(try evaluate(a)) }
            var kw: [(String, JinjaValue)] = []
            for (k, e) in keywords { kw.append((k, try evaluate(e))) }
            return try call(f, args, kw)
        case .filter(let base, let name, let arguments, let keywords):
            let value = try evaluate(base)
            var args: [JinjaValue] = []
            for a in arguments { args.append(try evaluate(a)) }
            var kw: [(String, JinjaValue)] = []
            for (k, e) in keywords { kw.append((k, try evaluate(e))) }
            try spend([value] + args + kw.map(\.1))
            return try checked(try lift { () throws(ChatTemplateFailure) in try JinjaBuiltins.filter(name, value, args, kw) })
        case .test(let base, let name, let arguments, let negated):
            let value = try evaluate(base)
            var args: [JinjaValue] = []
            for a in arguments { args.append(try evaluate(a)) }
            try spend([value] + args)
            let result = try lift { () throws(ChatTemplateFailure) in try JinjaBuiltins.test(name, value, args, fuel: fuel) }
            return .bool(result != negated)
        case .negate(let e):
            switch try evaluate(e) {
            case .int(let i): return .int(-i)
            case .float(let f): return .float(-f)
            case let v: throw fail("cannot negate a \(v.typeName)")
            }
        case .not(let e): return .bool(!(try evaluate(e).truthy))
        case .and(let a, let b):
            let left = try evaluate(a)
            return left.truthy ? try evaluate(b) : left
        case .or(let a, let b):
            let left = try evaluate(a)
            return left.truthy ? left : try evaluate(b)
        case .conditional(let condition, let then, let otherwise):
            if try evaluate(condition).truthy { return try evaluate(then) }
            return try otherwise.map { e throws(Interrupt) in try evaluate(e) } ?? .undefined
        case .binary(let op, let a, let b):
            let left = try evaluate(a)
            let right = try evaluate(b)
            try spend([left, right])
            return try lift { () throws(ChatTemplateFailure) in try JinjaBuiltins.binary(op, left, right, fuel: fuel) }
        case .list(let items):
            var values: [JinjaValue] = []
            for i in items { values.append(try evaluate(i)) }
            return try checked(.list(values))
        case .dict(let pairs):
            var values: [(key: String, value: JinjaValue)] = []
            for (k, v) in pairs {
                guard case .string(let key) = try evaluate(k) else { throw fail("dict keys must be strings") }
                values.append((key, try evaluate(v)))
            }
            return try checked(.dict(values))
        }
    }

    private func attribute(_ base: JinjaValue, _ name: String) throws(Interrupt) -> JinjaValue {
        switch base {
        case .undefined: throw fail("'\(name)' of an undefined value")
        case .namespace(let ns): return ns[name] ?? .undefined
        case .dict:
            if JinjaBuiltins.dictMethods.contains(name) { return .method(receiver: base, name: name) }
            return base.member(name) ?? .undefined
        case .string:
            return JinjaBuiltins.stringMethods.contains(name) ? .method(receiver: base, name: name) : .undefined
        default: return .undefined
        }
    }

    private func item(_ base: JinjaValue, _ index: JinjaValue) throws(Interrupt) -> JinjaValue {
        switch (base, index) {
        case (.undefined, _): throw fail("subscript of an undefined value")
        case (.dict, .string(let key)): return base.member(key) ?? .undefined
        case (.namespace(let ns), .string(let key)): return ns[key] ?? .undefined
        case (.list(let items), .int(let i)):
            let j = i < 0 ? items.count + i : i
            return items.indices.contains(j) ? items[j] : .undefined
        case (.string(let s), .int(let i)):
            let scalars = Array(s.unicodeScalars)
            let j = i < 0 ? scalars.count + i : i
            return scalars.indices.contains(j) ? .string(String(scalars[j])) : .undefined
        default: return .undefined
        }
    }

    private func slice(_ base: JinjaValue, _ start: JinjaValue?, _ stop: JinjaValue?, _ step: JinjaValue?) throws(Interrupt) -> JinjaValue {
        func int(_ v: JinjaValue?) throws(Interrupt) -> Int? {
            switch v {
            case nil, .none?: return nil
            case .int(let i)?: return i
            default: throw fail("slice bounds must be integers")
            }
        }
        let step = try int(step) ?? 1
        guard step != 0 else { throw fail("slice step cannot be zero") }
        let pick: ([JinjaValue]) throws(Interrupt) -> [JinjaValue] = { items throws(Interrupt) in
            let n = items.count
            func clamp(_ v: Int?, _ fallback: Int, low: Int, high: Int) -> Int {
                guard var v else { return fallback }
                if v < 0 { v += n }
                return min(max(v, low), high)
            }
            var out: [JinjaValue] = []
            if step > 0 {
                var i = clamp(try int(start), 0, low: 0, high: n)
                let end = clamp(try int(stop), n, low: 0, high: n)
                while i < end { out.append(items[i]); i += step }
            } else {
                var i = clamp(try int(start), n - 1, low: -1, high: n - 1)
                let end = clamp(try int(stop), -1, low: -1, high: n - 1)
                while i > end { out.append(items[i]); i += step }
            }
            return out
        }
        switch base {
        case .list(let items): return .list(try pick(items))
        case .string(let s):
            let parts = try pick(s.unicodeScalars.map { .string(String($0)) })
            return .string(parts.map { if case .string(let c) = $0 { c } else { "" } }.joined())
        default: throw fail("cannot slice a \(base.typeName)")
        }
    }

    private mutating func call(_ f: JinjaValue, _ args: [JinjaValue], _ kw: [(String, JinjaValue)]) throws(Interrupt) -> JinjaValue {
        switch f {
        case .macro(let macro):
            callDepth += 1
            defer { callDepth -= 1 }
            guard callDepth <= limits.callDepth else { throw fail("macros nested more than \(limits.callDepth) calls deep") }
            guard args.count <= macro.parameters.count else { throw fail("too many arguments to macro '\(macro.name)'") }
            var frame: [String: JinjaValue] = [:]
            for (i, parameter) in macro.parameters.enumerated() {
                if i < args.count {
                    frame[parameter.name] = args[i]
                } else if let given = kw.first(where: { $0.0 == parameter.name }) {
                    frame[parameter.name] = given.1
                } else if let d = parameter.defaultValue {
                    frame[parameter.name] = try evaluate(d)
                } else {
                    frame[parameter.name] = .undefined
                }
            }
            let saved = frames
            frames = [frames[0], frame]
            defer { frames = saved }
            return .string(try capture(macro.body))
        case .method(let receiver, let name):
            try spend([receiver] + args + kw.map(\.1))
            return try checked(try lift { () throws(ChatTemplateFailure) in try JinjaBuiltins.method(receiver, name, args, kw) })
        case .function(let name):
            try spend(args + kw.map(\.1))
            return try checked(try lift { () throws(ChatTemplateFailure) in try JinjaBuiltins.function(name, args, kw) })
        case .undefined: throw fail("call of an undefined function")
        default: throw fail("a \(f.typeName) is not callable")
        }
    }

    /// Pays for an operation on these values: their bytes or items, at least one unit each.
    private func spend(_ values: [JinjaValue]) throws(Interrupt) {
        for v in values { try spend(v) }
    }

    private func spend(_ value: JinjaValue) throws(Interrupt) {
        try lift { () throws(ChatTemplateFailure) in try fuel.spend(1 + JinjaFuel.size(value)) }
    }

    /// A value an expression built, refused when its containers nest too deep (`JinjaBounds.nesting`).
    @discardableResult
    private func checked(_ value: JinjaValue, level: Int = 0) throws(Interrupt) -> JinjaValue {
        try lift { () throws(ChatTemplateFailure) in try JinjaBounds.checkNesting(value, level: level, fuel: fuel) }
        return value
    }

    private func string(_ value: JinjaValue) throws(Interrupt) -> String {
        try lift { () throws(ChatTemplateFailure) in try JinjaBuiltins.string(value) }
    }
}

/// What stops rendering early: a loop's break or continue, or a failure.
enum JinjaInterrupt: Error {
    case breakLoop, continueLoop
    case failure(ChatTemplateFailure)
}

private func lift<T>(_ body: () throws(ChatTemplateFailure) -> T) throws(JinjaInterrupt) -> T {
    do { return try body() } catch { throw .failure(error) }
}
