import ArgumentParser
import ConvKit

/// How much memory the weight snapshots of the time scrubber may take: `train`, the app and `watch`.
struct SnapshotBudgetOption: ParsableArguments {
    @Option(
        name: .customLong("snapshot-budget"),
        help: ArgumentHelp(
            "MiB the weight snapshots of the time scrubber may take, in memory and beside the checkpoint (0 turns them off).",
            discussion:
                "Snapshots: steps 0, 10, 100 and each epoch's end (watch: the run's checkpoints); past the budget the history thins itself evenly.",
            valueName: "MiB"))
    var snapshotBudget: Int?

    func validate() throws {
        if let snapshotBudget, snapshotBudget < 0 || snapshotBudget > 1 << 20 {
            throw ValidationError("--snapshot-budget \(snapshotBudget): expected MiB from 0 (off) to 1048576")
        }
    }

    /// The budget given, in bytes.
    var budgetBytes: Int? { snapshotBudget.map { $0 << 20 } }
}

/// How often `train` and the app keep a copy of the weights for the time scrubber (steps 0, 10, 100 and each
/// epoch's end by default), and in how much memory.
struct SnapshotOptions: ParsableArguments {
    @OptionGroup var budget: SnapshotBudgetOption

    @Option(name: .customLong("snapshot-every"), help: ArgumentHelp("A weight snapshot every this many steps too (0: none).", valueName: "steps"))
    var snapshotEvery: Int?

    func validate() throws {
        if let snapshotEvery, snapshotEvery < 0 {
            throw ValidationError("--snapshot-every \(snapshotEvery): expected a number of steps, 0 or more")
        }
    }

    /// Sets the trainer's cadence from the options given (a resumed run keeps the rest of the default).
    func apply(to trainer: Trainer) {
        if let budgetBytes = budget.budgetBytes { trainer.weightHistory.cadence.budgetBytes = budgetBytes }
        if let snapshotEvery { trainer.weightHistory.cadence.everySteps = snapshotEvery }
    }
}
