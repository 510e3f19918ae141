/// The first non-finite number a run produced: what `Trainer.step()` reports instead of taking a step
/// that would spoil the weights.
///
/// The trainer checks, in this order: the training loss of the batch and the norm of the gradients
/// (before the optimiser touches the weights), then at the end of an epoch the weights themselves (a
/// finite gradient times a huge rate can still overflow them) and the test loss. Front ends word the value
/// for people; the engine only says what happened where.
public struct Divergence: Sendable, Equatable {
    /// What turned out not to be finite.
    public enum Quantity: String, Sendable, CaseIterable {
        /// The batch's training loss.
        case loss
        /// The Euclidean norm of all parameter gradients (a NaN or infinity in any gradient).
        case gradientNorm
        /// A weight or running statistic after the last step of an epoch.
        case weights
        /// The loss of the test-set evaluation that ends an epoch.
        case testLoss
    }

    public var quantity: Quantity
    /// The offending value: NaN, or plus or minus infinity.
    public var value: Float
    /// The state tensor holding it, for `.weights` (`conv1.weight`).
    public var tensor: String?
    /// Where: the epoch in progress (1-based), the step within it (1-based) and the run's step count
    /// including this one.
    public var epoch: Int
    public var step: Int
    public var stepsPerEpoch: Int
    public var globalStep: Int
    /// The learning rate the step ran (or would have run) with, user scaling included.
    public var learningRate: Float
    /// The run's peak learning rate (`--lr`), which a retry would lower.
    public var peakLearningRate: Float
    /// Where the trainer went back to (`Trainer`): after `restoredEpoch` epochs and `restoredStep` steps
    /// of the next (0 at an epoch's end), `restoredGlobalStep` steps in all.
    public var restoredEpoch: Int
    public var restoredStep: Int
    public var restoredGlobalStep: Int

    public init(
        quantity: Quantity, value: Float, tensor: String? = nil, epoch: Int, step: Int, stepsPerEpoch: Int, globalStep: Int,
        learningRate: Float, peakLearningRate: Float, restoredEpoch: Int, restoredStep: Int, restoredGlobalStep: Int
    ) {
        self.quantity = quantity
        self.value = value
        self.tensor = tensor
        self.epoch = epoch
        self.step = step
        self.stepsPerEpoch = stepsPerEpoch
        self.globalStep = globalStep
        self.learningRate = learningRate
        self.peakLearningRate = peakLearningRate
        self.restoredEpoch = restoredEpoch
        self.restoredStep = restoredStep
        self.restoredGlobalStep = restoredGlobalStep
    }

    public static func == (a: Divergence, b: Divergence) -> Bool {
        a.quantity == b.quantity && a.value.bitPattern == b.value.bitPattern && a.tensor == b.tensor && a.epoch == b.epoch
            && a.step == b.step && a.stepsPerEpoch == b.stepsPerEpoch && a.globalStep == b.globalStep
            && a.learningRate == b.learningRate && a.peakLearningRate == b.peakLearningRate
            && a.restoredEpoch == b.restoredEpoch && a.restoredStep == b.restoredStep && a.restoredGlobalStep == b.restoredGlobalStep
    }
}
