/// What a `RunWatcher` follows and shows: the run directory, who writes it, and the checkpoint whose
/// weights the views use (the snapshot's metrics may be ahead of it: the writer logs every few steps and
/// saves less often).
public struct WatchStatus: Sendable, Equatable {
    /// The run directory, as given.
    public var directory: String
    /// `run.json`'s writer (`convscope`, `convscope_torch 0.1.0`), when it says.
    public var writer: String?
    /// The checkpoint shown: its file name, step and completed epochs; nil until one has loaded.
    public var checkpointName: String?
    public var checkpointStep: Int?
    public var checkpointEpoch: Int?
    /// Checkpoints in the directory that passed inspection.
    public var checkpointCount: Int
    /// The step whose test-set evaluation `TrainingSnapshot.lastEvaluation` holds, once it is done.
    public var evaluatedStep: Int?

    public init(
        directory: String, writer: String? = nil, checkpointName: String? = nil, checkpointStep: Int? = nil,
        checkpointEpoch: Int? = nil, checkpointCount: Int = 0, evaluatedStep: Int? = nil
    ) {
        self.directory = directory
        self.writer = writer
        self.checkpointName = checkpointName
        self.checkpointStep = checkpointStep
        self.checkpointEpoch = checkpointEpoch
        self.checkpointCount = checkpointCount
        self.evaluatedStep = evaluatedStep
    }
}
