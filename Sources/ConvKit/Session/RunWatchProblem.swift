/// Something a `RunWatcher` poll skipped or set aside, as a value: the app and the command line word it
/// (`RunWatchProblemText` in ConvPresent).
public enum RunWatchProblem: Sendable, Equatable {
    /// A file of the run directory was skipped: a metrics line, or a checkpoint that does not load or fit.
    case skipped(RunDirectoryIssue)
    /// The checkpoint shown (`file`, relative to the run directory) was removed; its weights stay shown until a
    /// newer checkpoint arrives.
    case shownCheckpointRemoved(file: String)
    /// The weight history beside the first checkpoint shown did not load (`problem`: the error, one line); the
    /// directory's earlier checkpoints are the time scrubber's times instead.
    case historySetAside(problem: String)
}
