import ArgumentParser
import Foundation
import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies
import MoESlimEngine
import MoESlimSlimming

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Make pruning plans (formats/plan.md).",
        subcommands: [PlanSearchCommand.self])
}

struct PlanSearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Choose how many experts each layer keeps under a total budget, by measured KL against the unpruned model.",
        discussion: """
            Greedy (--method greedy): starting from the whole model, one expert at a time is removed from the layer \
            where removing its lowest-ranked expert (by --criterion) raises KL(base || plan) on the --data least, until \
            --keep-total experts remain; up to (experts removed) x (MoE layers) runs over the data, affordable on small \
            models only. Evolutionary (--method evolutionary): a population of per-layer budgets, starting from the \
            proportional one, evolves by crossover and by moving experts between layers for --generations; at most \
            population + generations x (population - population/4) runs, whatever the model's size, and never worse \
            than the proportional budget. Every candidate is evaluated with masked routers, as sweep does. The result keeps \
            different numbers of experts per layer, which stock transformers, vLLM and llama.cpp cannot load (they \
            take one expert count for all layers); --uniform-output writes the uniform plan whose KL is nearest.
            """)

    @Argument(help: "A .safetensors file or a model folder (with config.json).")
    var model: String

    @Option(help: "Counts file written by calibrate; ranks the experts inside each layer.")
    var counts: String

    @Option(help: "Routed experts to keep in all MoE layers together.")
    var keepTotal: Int

    @Option(help: ArgumentHelp("Ranking inside each layer: \(ExpertSelection.Criterion.explained).", valueName: "criterion"))
    var criterion = ExpertSelection.Criterion(.hard)

    @Option(name: .customLong("top-k"), help: "New experts per token (each layer keeps at least this many).")
    var topK: Int?

    @Option(name: [.customShort("o"), .customLong("output")], help: "The plan found (formats/plan.md).")
    var output: String

    @Option(help: "Also write the uniform plan (one expert count for every layer) whose KL is nearest the plan found.")
    var uniformOutput: String?

    @Flag(help: "Replace existing output files.")
    var force = false

    @Option(help: "How budgets are searched: greedy (one expert at a time) or evolutionary (a fixed number of runs).")
    var method = BudgetSearchMethod.greedy

    @Option(help: "Budgets per generation (--method evolutionary).")
    var population = BudgetEvolution.Settings().population

    @Option(help: "Generations after the first (--method evolutionary).")
    var generations = BudgetEvolution.Settings().generations

    @Option(help: "Seed of the evolutionary search; the same seed, counts and data give the same plan.")
    var seed: UInt64 = 0

    @OptionGroup var eval: EvalOptions

    @OptionGroup var reader: DataOptions

    func validate() throws {
        if eval.task != .perplexity { throw ValidationError("plan search measures KL on next-token predictions; --task choice does not apply") }
        if keepTotal < 1 { throw ValidationError("--keep-total must be at least 1") }
        if let topK, topK < 1 { throw ValidationError("--top-k must be at least 1") }
        if method == .evolutionary {
            if population < 2 || population > 1024 { throw ValidationError("--population must be between 2 and 1024") }
            if generations < 0 || generations > 10_000 { throw ValidationError("--generations must be between 0 and 10000") }
        }
    }

    func run() throws {
        try failing {
            var targets = [OutputTarget(output, option: "-o", kind: .file)]
            if let uniformOutput { targets.append(OutputTarget(uniformOutput, option: "--uniform-output", kind: .file)) }
            let checkpoint = try Checkpoint(path: model)
            try OutputTarget.check(targets, inputs: checkpoint.inputPaths + [counts] + eval.data, force: force)
            ProcessMemory.keepFreedPages()
            eval.engine.applyThreads()
            let pass = try eval.engine.logitsPass(checkpoint)
            let planner = try eval.planner(checkpoint, model: pass.model)
            let search = try BudgetSearch(model: pass.model, counts: ExpertCounts.load(counts, for: pass.model), countsPath: counts,
                                          criterion: criterion, keepTotal: keepTotal, topK: topK)
            func kl(_ plans: [PruningPlan]) throws(MoESlimError) -> [Double] {
                let models = [LogitsSource(pass: pass, vocabSlice: planner.vocabSlice)]
                    + plans.map { LogitsSource(pass: pass, plan: $0, vocabSlice: planner.vocabSlice) }
                guard case .perplexity(let results) = try eval.evaluate(models, checkpoint: checkpoint, reader: reader, chunkTokens: planner.chunkTokens, label: "plan search") else { return [] }
                return results.dropFirst().map(\.total.kl)
            }
            let found: (plan: PruningPlan, kl: Double)
            switch method {
            case .greedy:
                print("greedy search: at most \(search.greedyEvaluationsAtMost) runs over the data")
                let greedy = try search.run(evaluate: kl)
                found = (greedy.plan, greedy.steps.last?.kl ?? 0)
            case .evolutionary:
                let settings = BudgetEvolution.Settings(population: population, generations: generations, seed: seed)
                print("evolutionary search: at most \(settings.maximumEvaluations) runs over the data")
                let evolved = try search.evolve(settings, evaluate: kl)
                for (g, generation) in evolved.generations.enumerated() {
                    print(String(format: "generation %d: best KL %.6f (%d budgets measured)", g, generation.kl, generation.evaluated))
                }
                found = (evolved.plan, evolved.kl)
            }
            let foundKL = found.kl
            try AtomicFile.write(found.plan.json.serialized() + "\n", to: output)
            print("layer  kept")
            for layer in pass.model.moeLayers {
                print(String(format: "%5d  %d/%d", layer.layer, found.plan.keptExperts(layer: layer).count, layer.numExperts))
            }
            print(String(format: "wrote %@: %d experts, KL %.6f nats/token against the unpruned model", output, keepTotal, foundKL))
            let uniform = Set(pass.model.moeLayers.map { found.plan.keptExperts(layer: $0).count }).count <= 1
            if !uniform {
                print("note: this plan keeps different numbers of experts per layer. Stock transformers, vLLM and llama.cpp need one expert count for all layers; prune writes it with moe_slim.experts_per_layer for moe-slim's own commands. The uniform plans for comparison:")
            }
            guard let uniformOutput else { return }
            let options = search.uniformPlans()
            let kls = try kl(options.map(\.plan))
            var nearest = 0
            for i in kls.indices where abs(kls[i] - foundKL) < abs(kls[nearest] - foundKL) { nearest = i }
            for (i, option) in options.enumerated() {
                print(String(format: "  %d per layer (%d in all): KL %.6f%@", option.keep, option.keep * pass.model.moeLayers.count, kls[i], i == nearest ? "  <- nearest" : ""))
            }
            try AtomicFile.write(options[nearest].plan.json.serialized() + "\n", to: uniformOutput)
            print("wrote \(uniformOutput): the uniform plan nearest in KL, \(options[nearest].keep) experts per layer")
        }
    }
}
