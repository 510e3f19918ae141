/// What a training session looks like at one moment: an immutable value the UI renders.
///
/// The session publishes a new snapshot after steps (at most every `TrainingSession.publishInterval`),
/// after each epoch and whenever its state changes; readers never see a half-updated run.
public struct TrainingSnapshot: Sendable {
    /// What the training loop is doing.
    public enum State: String, Sendable {
        case running, paused, stepping, finished
        /// Paused by a divergence (`divergence` says where); the weights are the last good ones.
        case diverged
        /// Following a run that another process trains (`RunWatcher`): nothing here can steer it.
        case watching
    }

    public var datasetName: String
    public var isSynthetic: Bool
    public var classNames: [String]
    public var modelSpec: String
    public var presetName: String?
    public var config: TrainingConfig
    public var state: State
    /// Epochs finished so far; the epoch in progress is `completedEpochs + 1`.
    public var completedEpochs: Int
    public var stepInEpoch: Int
    public var stepsPerEpoch: Int
    public var globalStep: Int
    public var totalSteps: Int
    /// The learning rate of the next step, and the factor the user applied to the schedule.
    public var learningRate: Float
    public var learningRateScale: Float
    /// Recent training throughput (0 before it is known); front ends estimate the time left from it.
    public var imagesPerSecond: Double
    public var history: TrainingHistory
    /// The test-set evaluation after the latest epoch, with its confusion matrix.
    public var lastEvaluation: Evaluation?
    /// Changes whenever the weights change (the global step).
    public var weightsVersion: Int
    /// Steps taken since the last save.
    public var unsavedSteps: Int
    /// The newest event (a save, a divergence, the end of training...), with a serial number that grows
    /// with every new event so a front end can tell a new one from one it has shown; front ends word it.
    public var event: SessionEvent?
    public var eventSerial: Int
    /// The latest divergence, while the session is `.diverged` (and until a step gets through again).
    public var divergence: Divergence?
    /// The health timeline so far (records, standing alarms, the alarm log).
    public var health = HealthHistory()
    /// Whether health recording is off (`--health-every 0`).
    public var healthRecordingOff = false
    /// The weight snapshots kept for the time scrubber so far.
    public var weightHistory = WeightHistory()
    /// The run directory being watched and the checkpoint shown, when the state is `.watching`.
    public var watch: WatchStatus? = nil

    public var totalEpochs: Int { config.epochs }
}
