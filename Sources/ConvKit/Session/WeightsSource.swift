/// What the app's background workers (`InsightWorker`, `CompressionLab`) read from: the latest snapshot
/// and copies of the weights it shows, taken so that nobody sees weights mid-change.
///
/// A `TrainingSession` is one (it trains in process); a `RunWatcher` is the other (it follows a run
/// directory that another process writes, and its weights are the newest checkpoint it loaded).
public protocol WeightsSource: AnyObject, Sendable {
    /// The plan of the networks `copyNetwork` hands out (spec, input shape, classes): builds another network
    /// of the model (`Network(plan:)`) without copying any weights.
    var modelPlan: ModelPlan { get }
    /// The latest published snapshot.
    var snapshot: TrainingSnapshot { get }
    /// A copy of the network, with the version (`TrainingSnapshot.weightsVersion`) of its weights.
    func copyNetwork() -> (network: Network, version: Int)
    /// Copies the current weights into `network` (built from the same spec); returns their version.
    func copyWeights(into network: Network) -> Int
}

extension TrainingSession: WeightsSource {}
