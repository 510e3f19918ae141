/// The metrics of a run directory gathered into a `TrainingHistory`, the form the app's curves and
/// tables take from a live run.
///
/// `train` records become steps, `eval` records epochs; other kinds are kept aside in `others`. A
/// record whose step goes back (the writer resumed from an earlier checkpoint after writing lines it
/// then lost) replaces what was recorded from that step on, so the curves show the run that continued.
public struct RunHistory: Sendable, Equatable {
    public private(set) var history = TrainingHistory()
    /// The step of each epoch record, alongside `history.epochs`.
    public private(set) var epochSteps: [Int] = []
    /// Records of kinds other than train and eval, in order.
    public private(set) var others: [MetricsRecord] = []
    /// The newest record of each kind.
    public private(set) var latestTrain: MetricsRecord?
    public private(set) var latestEval: MetricsRecord?

    public init() {}

    public mutating func append(_ record: MetricsRecord) {
        func float(_ value: Double?) -> Float { Float(value ?? .nan) }
        switch record.kind {
        case .train:
            rewind(keepingStepsBefore: record.step, keepingEpochsBefore: record.step)
            history.steps.append(
                TrainingHistory.Step(
                    step: record.step, loss: float(record.loss), accuracy: float(record.accuracy),
                    learningRate: float(record.learningRate)))
            latestTrain = record
        case .eval:
            // An epoch closes at the step of its last train line: steps up to it stay.
            rewind(keepingStepsBefore: record.step + 1, keepingEpochsBefore: record.step)
            history.epochs.append(
                TrainingHistory.Epoch(
                    epoch: record.epoch ?? (history.epochs.last?.epoch ?? 0) + 1, trainLoss: float(record.loss),
                    trainAccuracy: float(record.accuracy), testLoss: float(record.testLoss),
                    testAccuracy: float(record.testAccuracy), learningRate: float(record.learningRate),
                    seconds: record.epochSeconds ?? 0, elapsedSeconds: record.time ?? 0,
                    imagesPerSecond: record.imagesPerSecond ?? 0))
            epochSteps.append(record.step)
            latestEval = record
        case .other:
            others.append(record)
        }
    }

    private mutating func rewind(keepingStepsBefore step: Int, keepingEpochsBefore epochStep: Int) {
        if let last = history.steps.last, last.step >= step {
            history.steps.removeAll { $0.step >= step }
        }
        if let last = epochSteps.last, last >= epochStep {
            let kept = epochSteps.prefix { $0 < epochStep }.count
            history.epochs.removeSubrange(kept...)
            epochSteps.removeSubrange(kept...)
        }
    }
}
