/// Parses the tokens of a chat template into statements: the subset of Jinja that model chat templates use
/// (if/elif/else, for with loop.*, set, namespace, macro, break/continue, generation). Any other tag is an
/// error that names it, rather than a silently different rendering.
struct JinjaParser {
    typealias Token = JinjaLexer.Token

    private let tokens: [Token]
    private var p = 0
    private var depth = 0
    static let maxDepth = 200

    static func parse(_ tokens: [Token]) throws(ChatTemplateFailure) -> [JinjaStatement] {
        var parser = JinjaParser(tokens: tokens)
        let (body, end) = try parser.statements(until: [])
        if let end { throw ChatTemplateFailure("unexpected {% \(end) %}") }
        return body
    }

    private init(tokens: [Token]) { self.tokens = tokens }

    private var current: Token? { p < tokens.count ? tokens[p] : nil }

    private mutating func advance() -> Token? {
        defer { p += 1 }
        return current
    }

    private func isName(_ name: String) -> Bool { current == .name(name) }
    private func isOp(_ op: String) -> Bool { current == .op(op) }

    private mutating func expect(_ token: Token, _ what: String) throws(ChatTemplateFailure) {
        guard current == token else { throw ChatTemplateFailure("expected \(what)") }
        p += 1
    }

    private mutating func name() throws(ChatTemplateFailure) -> String {
        guard case .name(let n) = current else { throw ChatTemplateFailure("expected a name") }
        p += 1
        return n
    }

    /// Statements up to one of the `{% end %}` words; returns the word that ended them (its tag is consumed
    /// up to the word, so `elif` can read its condition).
    private mutating func statements(until ends: Set<String>) throws(ChatTemplateFailure) -> ([JinjaStatement], String?) {
        depth += 1
        defer { depth -= 1 }
        guard depth < Self.maxDepth else { throw ChatTemplateFailure("blocks nested more than \(Self.maxDepth) deep") }
        var body: [JinjaStatement] = []
        while let token = advance() {
            switch token {
            case .text(let text): body.append(.text(text))
            case .openOutput:
                body.append(.output(try expression()))
                try expect(.close, "}}")
            case .openBlock:
                let word = try name()
                if ends.contains(word) { return (body, word) }
                body.append(try block(word))
            default: throw ChatTemplateFailure("unexpected token")
            }
        }
        guard ends.isEmpty else { throw ChatTemplateFailure("missing {% \(ends.sorted().joined(separator: " or ")) %}") }
        return (body, nil)
    }

    private mutating func block(_ word: String) throws(ChatTemplateFailure) -> JinjaStatement {
        switch word {
        case "if":
            var branches: [(JinjaExpression, [JinjaStatement])] = []
            var condition = try expression()
            while true {
                try expect(.close, "%}")
                let (body, end) = try statements(until: ["elif", "else", "endif"])
                branches.append((condition, body))
                if end == "elif" {
                    condition = try expression()
                } else if end == "else" {
                    try expect(.close, "%}")
                    let (otherwise, _) = try statements(until: ["endif"])
                    try expect(.close, "%}")
                    return .conditional(branches, otherwise: otherwise)
                } else {
                    try expect(.close, "%}")
                    return .conditional(branches, otherwise: [])
                }
            }
        case "for":
            var targets = [try name()]
            while isOp(",") {
                p += 1
                targets.append(try name())
            }
            try expect(.name("in"), "'in'")
            let over = try orExpression(allowConditional: false)
            var filter: JinjaExpression?
            if isName("if") {
                p += 1
                filter = try orExpression(allowConditional: false)
            }
            if isName("recursive") { throw ChatTemplateFailure("recursive for loops are not implemented") }
            try expect(.close, "%}")
            let (body, end) = try statements(until: ["else", "endfor"])
            var otherwise: [JinjaStatement] = []
            try expect(.close, "%}")
            if end == "else" {
                (otherwise, _) = try statements(until: ["endfor"])
                try expect(.close, "%}")
            }
            return .loop(targets: targets, over: over, filter: filter, body: body, otherwise: otherwise)
        case "set":
            let target = try name()
            var attribute: String?
            if isOp(".") {
                p += 1
                attribute = try name()
            }
            if isOp(",") { throw ChatTemplateFailure("{% set %} with several targets is not implemented") }
            if current == .close, attribute == nil {
                p += 1
                let (body, _) = try statements(until: ["endset"])
                try expect(.close, "%}")
                return .assignBlock(name: target, body: body)
            }
            try expect(.op("="), "'='")
            let value = try expression()
            try expect(.close, "%}")
            return .assign(name: target, attribute: attribute, value)
        case "macro":
            let macroName = try name()
            try expect(.op("("), "'('")
            var parameters: [(name: String, defaultValue: JinjaExpression?)] = []
            while !isOp(")") {
                let parameter = try name()
                var value: JinjaExpression?
                if isOp("=") {
                    p += 1
                    value = try expression()
                }
                parameters.append((parameter, value))
                if isOp(",") { p += 1 } else { break }
            }
            try expect(.op(")"), "')'")
            try expect(.close, "%}")
            let (body, _) = try statements(until: ["endmacro"])
            try expect(.close, "%}")
            return .macro(JinjaMacro(name: macroName, parameters: parameters, body: body))
        case "break", "continue":
            try expect(.close, "%}")
            return word == "break" ? .breakLoop : .continueLoop
        case "generation":
            try expect(.close, "%}")
            let (body, _) = try statements(until: ["endgeneration"])
            try expect(.close, "%}")
            return .generation(body)
        default:
            throw ChatTemplateFailure("the {% \(word) %} tag is not implemented")
        }
    }

    // MARK: expressions, in Jinja's precedence order

    private mutating func expression() throws(ChatTemplateFailure) -> JinjaExpression {
        try orExpression(allowConditional: true)
    }

    private mutating func orExpression(allowConditional: Bool) throws(ChatTemplateFailure) -> JinjaExpression {
        depth += 1
        defer { depth -= 1 }
        guard depth < Self.maxDepth else { throw ChatTemplateFailure("expression nested more than \(Self.maxDepth) deep") }
        var left = try andExpression()
        while isName("or") {
            p += 1
            left = .or(left, try andExpression())
        }
        if allowConditional, isName("if") {
            p += 1
            let condition = try orExpression(allowConditional: false)
            var otherwise: JinjaExpression?
            if isName("else") {
                p += 1
                otherwise = try orExpression(allowConditional: true)
            }
            return .conditional(condition: condition, then: left, otherwise: otherwise)
        }
        return left
    }

    private mutating func andExpression() throws(ChatTemplateFailure) -> JinjaExpression {
        var left = try notExpression()
        while isName("and") {
            p += 1
            left = .and(left, try notExpression())
        }
        return left
    }

    private mutating func notExpression() throws(ChatTemplateFailure) -> JinjaExpression {
        if isName("not") {
            p += 1
            return .not(try notExpression())
        }
        return try comparison()
    }

    private mutating func comparison() throws(ChatTemplateFailure) -> JinjaExpression {
        var left = try additive()
        while true {
            if case .op(let op) = current, ["==", "!=", "<", ">", "<=", ">="].contains(op) {
                p += 1
                left = .binary(op, left, try additive())
            } else if isName("in") {
                p += 1
                left = .binary("in", left, try additive())
            } else if isName("not"), p + 1 < tokens.count, tokens[p + 1] == .name("in") {
                p += 2
                left = .not(.binary("in", left, try additive()))
            } else {
                return left
            }
        }
    }

    private mutating func additive() throws(ChatTemplateFailure) -> JinjaExpression {
        var left = try concatenation()
        while case .op(let op) = current, op == "+" || op == "-" {
            p += 1
            left = .binary(op, left, try concatenation())
        }
        return left
    }

    private mutating func concatenation() throws(ChatTemplateFailure) -> JinjaExpression {
        var left = try multiplicative()
        while isOp("~") {
            p += 1
            left = .binary("~", left, try multiplicative())
        }
        return left
    }

    private mutating func multiplicative() throws(ChatTemplateFailure) -> JinjaExpression {
        var left = try power()
        while case .op(let op) = current, ["*", "/", "//", "%"].contains(op) {
            p += 1
            left = .binary(op, left, try power())
        }
        return left
    }

    private mutating func power() throws(ChatTemplateFailure) -> JinjaExpression {
        var left = try unary()
        while isOp("**") {
            p += 1
            left = .binary("**", left, try unary())
        }
        return left
    }

    private mutating func unary() throws(ChatTemplateFailure) -> JinjaExpression {
        if isOp("-") {
            p += 1
            return try filtered(.negate(try unary()))
        }
        if isOp("+") {
            p += 1
            return try unary()
        }
        return try filtered(try postfix(try primary()))
    }

    private mutating func filtered(_ base: JinjaExpression) throws(ChatTemplateFailure) -> JinjaExpression {
        var node = base
        while true {
            if isOp("|") {
                p += 1
                let filterName = try name()
                var arguments: [JinjaExpression] = []
                var keywords: [(String, JinjaExpression)] = []
                if isOp("(") { (arguments, keywords) = try callArguments() }
                node = .filter(node, name: filterName, arguments: arguments, keywords: keywords)
            } else if isName("is") {
                p += 1
                var negated = false
                if isName("not") {
                    p += 1
                    negated = true
                }
                let testName = try name()
                var arguments: [JinjaExpression] = []
                if isOp("(") {
                    arguments = try callArguments().0
                } else if let token = current, startsArgument(token) {
                    arguments = [try postfix(try primary())]
                }
                node = .test(node, name: testName, arguments: arguments, negated: negated)
            } else {
                return node
            }
        }
    }

    private func startsArgument(_ token: Token) -> Bool {
        switch token {
        case .string, .int, .float: true
        case .name(let n): !["else", "or", "and", "if", "is", "in", "not"].contains(n)
        case .op(let op): op == "[" || op == "{"
        default: false
        }
    }

    private mutating func postfix(_ base: JinjaExpression) throws(ChatTemplateFailure) -> JinjaExpression {
        var node = base
        while true {
            if isOp(".") {
                p += 1
                if case .int(let index) = current {
                    p += 1
                    node = .item(node, .literal(.int(index)))
                } else {
                    node = .attribute(node, try name())
                }
            } else if isOp("[") {
                p += 1
                node = try subscriptTail(node)
            } else if isOp("(") {
                let (arguments, keywords) = try callArguments()
                node = .call(node, arguments: arguments, keywords: keywords)
            } else {
                return node
            }
        }
    }

    private mutating func subscriptTail(_ base: JinjaExpression) throws(ChatTemplateFailure) -> JinjaExpression {
        var parts: [JinjaExpression?] = [nil]
        var colons = 0
        while !isOp("]") {
            if isOp(":") {
                p += 1
                colons += 1
                guard colons <= 2 else { throw ChatTemplateFailure("bad slice") }
                parts.append(nil)
            } else {
                guard parts[parts.count - 1] == nil else { throw ChatTemplateFailure("expected ']'") }
                parts[parts.count - 1] = try expression()
            }
        }
        p += 1
        if colons == 0 {
            guard let index = parts[0] else { throw ChatTemplateFailure("empty subscript") }
            return .item(base, index)
        }
        while parts.count < 3 { parts.append(nil) }
        return .slice(base, start: parts[0], stop: parts[1], step: parts[2])
    }

    private mutating func callArguments() throws(ChatTemplateFailure) -> ([JinjaExpression], [(String, JinjaExpression)]) {
        try expect(.op("("), "'('")
        var arguments: [JinjaExpression] = []
        var keywords: [(String, JinjaExpression)] = []
        while !isOp(")") {
            if case .name(let keyword) = current, p + 1 < tokens.count, tokens[p + 1] == .op("=") {
                p += 2
                keywords.append((keyword, try expression()))
            } else {
                arguments.append(try expression())
            }
            if isOp(",") { p += 1 } else { break }
        }
        try expect(.op(")"), "')'")
        return (arguments, keywords)
    }

    private mutating func primary() throws(ChatTemplateFailure) -> JinjaExpression {
        guard let token = advance() else { throw ChatTemplateFailure("unexpected end of template") }
        switch token {
        case .string(var text):
            while case .string(let more) = current {
                text += more
                p += 1
            }
            return .literal(.string(text))
        case .int(let n): return .literal(.int(n))
        case .float(let f): return .literal(.float(f))
        case .name(let n):
            switch n {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .name(n)
            }
        case .op("("):
            if isOp(")") {
                p += 1
                return .list([])
            }
            let first = try expression()
            if isOp(",") {
                var items = [first]
                while isOp(",") {
                    p += 1
                    if isOp(")") { break }
                    items.append(try expression())
                }
                try expect(.op(")"), "')'")
                return .list(items)
            }
            try expect(.op(")"), "')'")
            return first
        case .op("["):
            var items: [JinjaExpression] = []
            while !isOp("]") {
                items.append(try expression())
                if isOp(",") { p += 1 } else { break }
            }
            try expect(.op("]"), "']'")
            return .list(items)
        case .op("{"):
            var pairs: [(JinjaExpression, JinjaExpression)] = []
            while !isOp("}") {
                let key = try expression()
                try expect(.op(":"), "':'")
                pairs.append((key, try expression()))
                if isOp(",") { p += 1 } else { break }
            }
            try expect(.op("}"), "'}'")
            return .dict(pairs)
        default:
            throw ChatTemplateFailure("unexpected token in an expression")
        }
    }
}
