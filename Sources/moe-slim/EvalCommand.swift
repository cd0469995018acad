import ArgumentParser
import Foundation
import MoESlimSupport
import MoESlimFormats
import MoESlimEngine
import MoESlimSlimming

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure a model on your data: perplexity, or multiple-choice accuracy; optionally against a pruned copy.",
        discussion: """
            Perplexity is exp(mean next-token negative log-likelihood) over the records (each record one \
            sequence). With --against, both models run on the same tokens and the report adds the mean \
            KL(base‖against) of their next-token distributions and how often their top-1 tokens agree; the two \
            checkpoints need the same vocabulary, not the same expert ids. --task choice scores JSON Lines \
            questions as lm-evaluation-harness scores MMLU: the pick is the choice whose tokens after the prompt \
            have the highest summed log-likelihood. Definitions and JSON: formats/eval.md.
            """)

    @Argument(help: "A .safetensors file or a model folder (with config.json).")
    var model: String

    @Option(help: "A second checkpoint (e.g. the pruned model) to compare with MODEL on the same tokens.")
    var against: String?

    @OptionGroup var eval: EvalOptions

    @OptionGroup var reader: DataOptions

    func run() throws {
        try failing {
            ProcessMemory.keepFreedPages()
            let checkpoint = try Checkpoint(path: model)
            eval.engine.applyThreads()
            let pass = try eval.engine.logitsPass(checkpoint)
            ImageRoutingWarning.warn(pass.model)
            var planner = try eval.planner(checkpoint, model: pass.model)
            if let note = planner.streamingNote { printError(note) }
            var models = [LogitsSource(pass: pass.streaming(planner.streams), vocabSlice: planner.vocabSlice)]
            if let against {
                let other = try Checkpoint(path: against)
                let otherPass = try eval.engine.logitsPass(other)
                guard otherPass.model.vocabSize == pass.model.vocabSize else {
                    throw MoESlimError(.invalidArgument, "has a vocabulary of \(otherPass.model.vocabSize) tokens and \(model) of \(pass.model.vocabSize); KL and top-1 agreement compare the same tokens, so --against needs the same vocabulary (a pruned copy of MODEL keeps it)", path: against)
                }
                let otherPlanner = try eval.planner(other, model: otherPass.model)
                if otherPlanner.chunkTokens < planner.chunkTokens { planner = otherPlanner }
                models.append(LogitsSource(pass: otherPass.streaming(otherPlanner.streams), vocabSlice: otherPlanner.vocabSlice))
            }
            let results = try eval.evaluate(models, checkpoint: checkpoint, reader: reader, chunkTokens: planner.chunkTokens, label: "eval")
            print(eval.json ? json(results) : text(results))
        }
    }

    private func json(_ results: EvalResults) -> String {
        var members: [(key: String, value: JSONValue)] = [("model", .string(model))]
        if let against { members.append(("against", .string(against))) }
        members.append(("task", .string(eval.task.rawValue)))
        switch results {
        case .perplexity(let r):
            members += EvalOutput.grouped(r[0], r.count > 1 ? r[1] : nil) { EvalOutput.members($0, compared: $1, standardErrors: true) }
        case .choice(let r):
            members += EvalOutput.grouped(r[0], r.count > 1 ? r[1] : nil) { EvalOutput.members($0, compared: $1) }
        }
        return JSONValue.object(members).serialized()
    }

    private func text(_ results: EvalResults) -> String {
        var lines = ["\(model)" + (against.map { " against \($0)" } ?? "")]
        func add<M>(_ r: [Grouped<M>], _ line: (M, M?) -> String) {
            lines.append("all: " + line(r[0].total, r.count > 1 ? r[1].total : nil))
            for g in r[0].groups {
                lines.append("\(EscapedText.of(g)): " + line(r[0].byGroup[ByteName(g)]!, r.count > 1 ? r[1].byGroup[ByteName(g)] : nil))
            }
        }
        switch results {
        case .perplexity(let r): add(r) { EvalOutput.text($0, compared: $1) }
        case .choice(let r): add(r) { EvalOutput.text($0, compared: $1) }
        }
        return lines.joined(separator: "\n")
    }
}
