/// The weights the app's views read, at the time the user has scrubbed to: the live weights of `live`
/// (a training session or a watched run), or a snapshot of its `WeightHistory`.
///
/// Every background worker (insight, explanation board, sanity curve, compression lab) reads weights through a
/// `WeightsSource`; giving them this one instead of the session makes every view show the chosen time without
/// any view knowing about time. Training goes on behind it: the live source is untouched.
///
/// Versions: a snapshot taken after step N holds the weights the live run had at step N, so its version is N,
/// the same number `TrainingSnapshot.weightsVersion` gives live weights; a worker holding a map of step N's weights
/// need not recompute it when the cursor moves to N or back.
public final class TimeCursorSource: WeightsSource {
    private let live: any WeightsSource
    private let shown = Locked<WeightSnapshot?>(nil)

    public init(live: any WeightsSource) {
        self.live = live
    }

    public var modelPlan: ModelPlan { live.modelPlan }

    /// Shows `snapshot` from now on; nil goes back to the live weights.
    public func show(_ snapshot: WeightSnapshot?) {
        shown.withLock { $0 = snapshot }
    }

    /// The snapshot shown, or nil when the views follow the live weights.
    public var shownSnapshot: WeightSnapshot? { shown.withLock { $0 } }

    /// The live snapshot, with the version and the evaluation of the time shown.
    public var snapshot: TrainingSnapshot {
        var snapshot = live.snapshot
        if let past = shownSnapshot {
            snapshot.weightsVersion = past.step
            snapshot.lastEvaluation = past.evaluation
        }
        return snapshot
    }

    public func copyNetwork() -> (network: Network, version: Int) {
        guard let past = shownSnapshot else { return live.copyNetwork() }
        return (network(at: past), past.step)
    }

    /// A network of the run's model holding `snapshot`'s weights.
    public func network(at snapshot: WeightSnapshot) -> Network {
        let network = Network(plan: live.modelPlan)
        snapshot.restore(into: network)
        return network
    }

    public func copyWeights(into network: Network) -> Int {
        guard let past = shownSnapshot, past.fits(network) else { return live.copyWeights(into: network) }
        past.restore(into: network)
        return past.step
    }
}
