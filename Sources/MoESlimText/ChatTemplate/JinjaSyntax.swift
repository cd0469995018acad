/// The parsed form of a chat template: statements with text between them, and the expressions inside
/// `{{ }}` and `{% %}`.
indirect enum JinjaExpression {
    case literal(JinjaValue)
    case name(String)
    case attribute(JinjaExpression, String)
    case item(JinjaExpression, JinjaExpression)
    case slice(JinjaExpression, start: JinjaExpression?, stop: JinjaExpression?, step: JinjaExpression?)
    case call(JinjaExpression, arguments: [JinjaExpression], keywords: [(String, JinjaExpression)])
    case filter(JinjaExpression, name: String, arguments: [JinjaExpression], keywords: [(String, JinjaExpression)])
    case test(JinjaExpression, name: String, arguments: [JinjaExpression], negated: Bool)
    case negate(JinjaExpression)
    case not(JinjaExpression)
    case binary(String, JinjaExpression, JinjaExpression)
    case and(JinjaExpression, JinjaExpression)
    case or(JinjaExpression, JinjaExpression)
    case conditional(condition: JinjaExpression, then: JinjaExpression, otherwise: JinjaExpression?)
    case list([JinjaExpression])
    case dict([(JinjaExpression, JinjaExpression)])
}

indirect enum JinjaStatement {
    case text(String)
    case output(JinjaExpression)
    case conditional([(JinjaExpression, [JinjaStatement])], otherwise: [JinjaStatement])
    case loop(targets: [String], over: JinjaExpression, filter: JinjaExpression?, body: [JinjaStatement], otherwise: [JinjaStatement])
    case assign(name: String, attribute: String?, JinjaExpression)
    case assignBlock(name: String, body: [JinjaStatement])
    case macro(JinjaMacro)
    case breakLoop
    case continueLoop
    /// transformers' `{% generation %}` marks assistant text for masks; rendering is the body's.
    case generation([JinjaStatement])
}
