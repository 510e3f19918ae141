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

    /// How many snapshots a run of `epochs` epochs of `stepsPerEpoch` steps records from its start (before the
    /// budget thins them), counting up to `limit` at most.
    public func snapshotCount(stepsPerEpoch: Int, epochs: Int, limit: Int = .max) -> Int {
        let steps = max(0, stepsPerEpoch) * max(0, epochs)
        var count = 0
        for step in 0...steps where count < limit {
            if records(completedSteps: step, epochEnded: step > 0 && step % max(1, stepsPerEpoch) == 0) { count += 1 }
        }
        return count
    }

    /// A one-line problem with the settings, or nil when they are usable.
    public var problem: String? {
        if budgetBytes < 0 { return "snapshot budget \(budgetBytes): expected bytes, 0 or more (0 turns the history off)" }
        if let bad = earlySteps.first(where: { $0 < 0 }) { return "snapshot step \(bad): expected a step count, 0 or more" }
        if let every = everySteps, every < 0 { return "snapshot cadence every \(every) steps: expected 0 or more" }
        return nil
    }
}
