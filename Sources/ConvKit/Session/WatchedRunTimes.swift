/// The times a watched run (`convscope watch`) offers the time scrubber: every checkpoint the `RunWatcher`
/// shows becomes a snapshot of the run's `WeightHistory`, at the checkpoint's step and epoch, within the same
/// memory budget (and thinned the same way) as a live run's snapshots.
///
/// The first checkpoint shown also brings the run's past: the weight history beside it
/// (`<checkpoint>.history.safetensors`, read as explore mode reads it) when there is one that serves, else the
/// directory's earlier checkpoints, of which only those the budget would keep are read from disk.
struct WatchedRunTimes {
    private(set) var history: WeightHistory

    init(budgetBytes: Int) {
        history = WeightHistory(cadence: SnapshotCadence(budgetBytes: budgetBytes))
    }

    /// The checkpoint `entry` is shown, with `network` built from it: it becomes the time of its step (replacing one
    /// of the same step, a checkpoint rewritten in place).
    mutating func add(_ network: Network, of entry: RunCheckpointEntry) {
        guard history.cadence.budgetBytes > 0 else { return }
        history.add(WeightSnapshot(capturing: network, step: entry.step, epoch: entry.epoch))
    }

    /// The watcher's test-set evaluation of the checkpoint of `step`: kept with its time, so the confusion matrix of
    /// that time needs no second evaluation.
    mutating func keep(_ evaluation: Evaluation, step: Int) {
        guard var snapshot = history.snapshot(atStep: step), snapshot.evaluation == nil else { return }
        snapshot.evaluation = evaluation
        history.add(snapshot)
    }

    /// Brings the past of the first checkpoint shown, `entry` (already `add`ed): the history file beside it, else
    /// the checkpoints of `earlier` that the budget keeps, each read by `read` (the watcher's checks: the model and
    /// the classes shown). Returns the problems met; `stop` ends the reading between checkpoints.
    mutating func open(
        from entry: RunCheckpointEntry, network: Network, earlier: [RunCheckpointEntry], stop: StopSignal,
        read: (RunCheckpointEntry) -> Result<Network, RunDirectoryIssue>
    ) -> [RunWatchProblem] {
        guard let newest = history.snapshot(atStep: entry.step) else { return [] }
        var problems: [RunWatchProblem] = []
        do {
            if var saved = try RunCheckpoint.weightHistory(
                besideCheckpoint: entry.path, network: network, cadence: history.cadence, upToStep: entry.step)
            {
                saved.add(newest)
                history = saved
                return []
            }
        } catch {
            problems.append(.historySetAside(problem: "\(error)"))
        }
        // One checkpoint per step (a rewritten step's newest name), oldest first; read only what thinning would keep.
        var byStep: [Int: RunCheckpointEntry] = [:]
        for candidate in earlier where candidate.step < entry.step { byStep[candidate.step] = candidate }
        let room = newest.byteCount > 0 ? history.cadence.budgetBytes / newest.byteCount : 0
        let kept = WeightHistory.stepsKept(of: byStep.keys.sorted() + [entry.step], count: room).dropLast()
        for step in kept.reversed() {
            guard !stop.isRaised, let candidate = byStep[step] else { break }
            switch read(candidate) {
            case .success(let network): add(network, of: candidate)
            case .failure(let issue): problems.append(.skipped(issue))
            }
        }
        return problems
    }
}
