/// When the trainer keeps a copy of the weights for the time scrubber, and how much memory the copies may take.
///
/// Configuration as data (`Codable`): by default the end of every epoch (with that epoch's test evaluation) and the
/// first steps, where the weights move most (the initialisation, step 10, step 100), within 256 MiB. The budget is
/// what the history may hold in memory and on disk; past it the history thins itself evenly (`WeightHistory`).
public struct SnapshotCadence: Sendable, Equatable, Codable {
    /// Completed optimiser steps (0 is the initialisation) that get a snapshot.
    public var earlySteps: [Int]
    /// A snapshot at the end of every epoch (with the epoch's test evaluation).
    public var everyEpoch: Bool
    /// A snapshot every this many steps besides; nil or 0 for none.
    public var everySteps: Int?
    /// Bytes the snapshots may take; 0 turns the history off.
    public var budgetBytes: Int

    public static let defaultBudget = 256 << 20

    public init(earlySteps: [Int] = [0, 10, 100], everyEpoch: Bool = true, everySteps: Int? = nil, budgetBytes: Int = SnapshotCadence.defaultBudget) {
        self.earlySteps = earlySteps
        self.everyEpoch = everyEpoch
        self.everySteps = everySteps
        self.budgetBytes = budgetBytes
    }

    /// No snapshots at all.
    public static let off = SnapshotCadence(earlySteps: [], everyEpoch: false, everySteps: nil, budgetBytes: 0)

    public var isEnabled: Bool { budgetBytes > 0 && (!earlySteps.isEmpty || everyEpoch || (everySteps ?? 0) > 0) }

    /// Whether the weights after `completedSteps` optimiser steps are kept; `epochEnded` when that step finished an epoch.
    public func records(completedSteps: Int, epochEnded: Bool) -> Bool {
        guard budgetBytes > 0 else { return false }
        if epochEnded && everyEpoch { return true }
        if earlySteps.contains(completedSteps) { return true }
        if let every = everySteps, every > 0, completedSteps > 0, completedSteps % every == 0 { return true }
        return false
    }

    /// How many snapshots a run of `epochs` epochs of `stepsPerEpoch` steps records from its start, before the
    /// budget thins them: the epochs' ends, the multiples of `everySteps` and the early steps, each step once.
    /// Worked out, not counted step by step, so that a run of billions of steps is sized at once.
    public func snapshotCount(stepsPerEpoch: Int, epochs: Int) -> Int {
        guard budgetBytes > 0 else { return 0 }
        let perEpoch = max(1, stepsPerEpoch)
        let (product, overflow) = perEpoch.multipliedReportingOverflow(by: max(0, epochs))
        let steps = overflow ? Int.max : product
        let every = everySteps.flatMap { $0 > 0 ? $0 : nil }
        /// Multiples of `n` in 1...steps.
        func multiples(_ n: Int) -> Int { steps / n }
        var count = everyEpoch ? multiples(perEpoch) : 0
        if let every {
            count += multiples(every)
            if everyEpoch {
                // Steps that are both an epoch's end and a multiple of `every`: the multiples of their lcm.
                let (lcm, overflow) = (perEpoch / gcd(perEpoch, every)).multipliedReportingOverflow(by: every)
                if !overflow { count -= multiples(lcm) }
            }
        }
        for step in Set(earlySteps) where step >= 0 && step <= steps {
            let counted = step > 0 && ((everyEpoch && step % perEpoch == 0) || (every.map { step % $0 == 0 } ?? false))
            if !counted { count += 1 }
        }
        return count
    }

    private func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

    /// A one-line problem with the settings, or nil when they are usable.
    public var problem: String? {
        if budgetBytes < 0 { return "snapshot budget \(budgetBytes): expected bytes, 0 or more (0 turns the history off)" }
        if let bad = earlySteps.first(where: { $0 < 0 }) { return "snapshot step \(bad): expected a step count, 0 or more" }
        if let every = everySteps, every < 0 { return "snapshot cadence every \(every) steps: expected 0 or more" }
        return nil
    }
}
