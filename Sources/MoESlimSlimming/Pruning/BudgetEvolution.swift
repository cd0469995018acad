import MoESlimSupport

/// The evolutionary budget search (`plan search --method evolutionary`, after EvoESAP and GRAPE): a budget is
/// one kept-expert count per MoE layer, each within its layer's bounds, summing to the total. The greedy search
/// costs about (experts removed × MoE layers) model runs, which is out of reach on a real model (Qwen3-30B at
/// 50%: 3072 × 48); this one costs a fixed `population + generations × (population − elites)` runs at most,
/// whatever the model's size, and is never worse than the proportional budget it starts from (elitism).
///
/// Deterministic for a seed: the generator is SplitMix64 and every draw is reduced by a remainder, not by the
/// standard library's `random(in:)`, whose algorithm may change between Swift releases; candidates are ranked by
/// (KL, budget), so equal KLs cannot make two runs differ.
public struct BudgetEvolution: Sendable {
    public struct Settings: Sendable, Equatable {
        public var population: Int
        public var generations: Int
        public var seed: UInt64

        public init(population: Int = 16, generations: Int = 20, seed: UInt64 = 0) {
            self.population = population
            self.generations = generations
            self.seed = seed
        }

        /// The best quarter (at least one) passes to the next generation unchanged.
        public var elites: Int { max(1, population / 4) }

        /// The most budgets the search can evaluate (fewer when children repeat a budget already measured).
        public var maximumEvaluations: Int { population + generations * (population - elites) }
    }

    /// The best budget of one generation and its KL.
    public struct Generation: Sendable, Equatable {
        public var best: [Int]
        public var kl: Double
        public var evaluated: Int
    }

    public let lower: [Int]
    public let upper: [Int]
    public let total: Int
    public let settings: Settings

    /// `lower[i] ... upper[i]` are layer i's bounds; the caller has checked that `total` lies between their sums.
    public init(lower: [Int], upper: [Int], total: Int, settings: Settings) {
        precondition(lower.count == upper.count && zip(lower, upper).allSatisfy { $0 <= $1 })
        precondition(lower.reduce(0, +) <= total && total <= upper.reduce(0, +))
        self.lower = lower
        self.upper = upper
        self.total = total
        self.settings = settings
    }

    /// The starting budget: every layer at its lower bound, the rest shared in proportion to each layer's room
    /// (largest remainder, ties to the lower layer), so a model whose layers are alike starts uniform.
    public var proportional: [Int] {
        let room = zip(lower, upper).map { $1 - $0 }
        let roomTotal = room.reduce(0, +)
        let spare = total - lower.reduce(0, +)
        guard roomTotal > 0 else { return lower }
        var budget = lower
        var remainders: [(remainder: Int, layer: Int)] = []
        for i in room.indices {
            let (share, remainder) = (spare * room[i]).quotientAndRemainder(dividingBy: roomTotal)
            budget[i] += share
            remainders.append((remainder, i))
        }
        let left = total - budget.reduce(0, +)
        for entry in remainders.sorted(by: { ($0.remainder, -$0.layer) > ($1.remainder, -$1.layer) }).prefix(left) {
            budget[entry.layer] += 1
        }
        return budget
    }

    /// Runs the search: `evaluate` gets the budgets not measured before, in one batch per generation, and
    /// returns their KL. Returns the best budget found with its KL, and each generation's best.
    public func run(evaluate: ([[Int]]) throws(MoESlimError) -> [Double]) throws(MoESlimError) -> (best: [Int], kl: Double, generations: [Generation]) {
        var random = SplitMix64(seed: settings.seed)
        var measured: [[Int]: Double] = [:]
        func measure(_ budgets: [[Int]]) throws(MoESlimError) -> Int {
            var fresh: [[Int]] = []
            for b in budgets where measured[b] == nil && !fresh.contains(b) { fresh.append(b) }
            guard !fresh.isEmpty else { return 0 }
            let kls = try evaluate(fresh)
            for (b, kl) in zip(fresh, kls) { measured[b] = kl }
            return fresh.count
        }
        /// Best first by KL (a NaN last), equal KLs by the budget itself.
        func ranked(_ budgets: [[Int]]) -> [[Int]] {
            func kl(_ b: [Int]) -> Double { measured[b].map { $0.isNaN ? .infinity : $0 } ?? .infinity }
            return budgets.sorted { kl($0) != kl($1) ? kl($0) < kl($1) : $0.lexicographicallyPrecedes($1) }
        }

        let start = proportional
        var population = [start]
        for _ in 1..<max(1, settings.population) {
            population.append(mutated(start, moves: 1 + random.below(4), &random))
        }
        var evaluated = try measure(population)
        population = ranked(Array(Set(population)))
        var history = [Generation(best: population[0], kl: measured[population[0]]!, evaluated: evaluated)]
        for _ in 0..<settings.generations {
            let elites = Array(population.prefix(settings.elites))
            let parents = Array(population.prefix(max(2, (population.count + 1) / 2)))
            var children: [[Int]] = []
            for _ in 0..<(settings.population - elites.count) {
                var child = crossed(pick(parents, &random), pick(parents, &random), &random)
                child = mutated(child, moves: 1 + random.below(3), &random)
                children.append(child)
            }
            evaluated += try measure(children)
            population = Array(ranked(Array(Set(elites + children + population))).prefix(settings.population))
            history.append(Generation(best: population[0], kl: measured[population[0]]!, evaluated: evaluated))
        }
        return (population[0], measured[population[0]]!, history)
    }

    /// The better of two parents drawn at random (a tournament of two; `parents` is ranked best first).
    private func pick(_ parents: [[Int]], _ random: inout SplitMix64) -> [Int] {
        parents[min(random.below(parents.count), random.below(parents.count))]
    }

    /// Each layer's count from one parent or the other, then repaired to the total one expert at a time.
    private func crossed(_ a: [Int], _ b: [Int], _ random: inout SplitMix64) -> [Int] {
        var child = a.indices.map { random.below(2) == 0 ? a[$0] : b[$0] }
        var sum = child.reduce(0, +)
        while sum > total {
            let donors = child.indices.filter { child[$0] > lower[$0] }
            child[donors[random.below(donors.count)]] -= 1
            sum -= 1
        }
        while sum < total {
            let receivers = child.indices.filter { child[$0] < upper[$0] }
            child[receivers[random.below(receivers.count)]] += 1
            sum += 1
        }
        return child
    }

    /// `moves` times, one expert of budget moves from a layer above its lower bound to another below its upper.
    private func mutated(_ budget: [Int], moves: Int, _ random: inout SplitMix64) -> [Int] {
        var b = budget
        for _ in 0..<moves {
            let donors = b.indices.filter { b[$0] > lower[$0] }
            guard !donors.isEmpty else { break }
            let donor = donors[random.below(donors.count)]
            let receivers = b.indices.filter { $0 != donor && b[$0] < upper[$0] }
            guard !receivers.isEmpty else { break }
            b[donor] -= 1
            b[receivers[random.below(receivers.count)]] += 1
        }
        return b
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014) over RandomScores' step, with draws below a bound by remainder.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        defer { state &+= 0x9E37_79B9_7F4A_7C15 }
        return RandomScores.mix(state)
    }

    /// A draw in 0..<bound (bound > 0); the remainder's bias is below 2^-50 for the bounds a search meets.
    mutating func below(_ bound: Int) -> Int {
        Int(next() % UInt64(bound))
    }
}
