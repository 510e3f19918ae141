/// Look-ahead (Zhang et al. 2019) around an optimiser, as optax's `lookahead` and PyTorch's wrappers put it:
/// the wrapped optimiser steps the ("fast") weights as usual, and every `period` steps a slow copy of the
/// weights and batch-norm statistics moves towards them and the fast ones restart from there.
///
/// The share of the slow weights kept at a sync follows airbench's schedule (`retention`).
public final class LookaheadOptimizer {
    /// Steps between syncs.
    public static let period = 5

    public let inner: Optimizer
    /// Pairs of (weights, slow copy) over every float state tensor of the network.
    private let pairs: [(weights: FloatBuffer, slow: FloatBuffer, count: Int, name: String)]

    /// Wraps `inner`, keeping slow copies of `state` (the network's weights and statistics) as they are now.
    public init(wrapping inner: Optimizer, state: [StateTensor]) {
        self.inner = inner
        pairs = state.compactMap { state in
            guard case let .float(buffer, layout) = state.content else { return nil }
            return (buffer, FloatBuffer(buffer.array(layout.count)), layout.count, state.name)
        }
    }

    /// The share of the slow weights kept at a sync after `step` of `totalSteps` steps, airbench's
    /// schedule: `0.95^5 * (step / totalSteps)^3`. Early syncs keep almost nothing, so the run moves at
    /// the optimiser's full speed, and the averaging strengthens towards the end (0.77 at the last step).
    /// A constant share from the start trains the `quick` recipe to a clearly lower accuracy
    /// (docs/results.md, "The quick recipe").
    public static func retention(step: Int, totalSteps: Int) -> Float {
        let progress = Float(step) / Float(max(totalSteps, 1))
        return 0.773_780_9 * progress * progress * progress
    }

    /// The slow copies, under `optimizer.lookahead.<tensor>`: what a checkpoint keeps to resume exactly.
    public var stateTensors: [StateTensor] {
        pairs.map { StateTensor(name: "optimizer.lookahead.\($0.name)", content: .float($0.slow, .plain([$0.count]))) }
    }

    /// Step `step` (0-based) of `totalSteps`: the wrapped optimiser's step, then a sync after every
    /// `period`-th.
    func step(rate: Float, momentum: Float?, step: Int, totalSteps: Int) {
        inner.step(rate: rate, momentum: momentum)
        guard (step + 1) % Self.period == 0 else { return }
        let move = 1 - Self.retention(step: step + 1, totalSteps: totalSteps)
        for pair in pairs {
            let fast = pair.weights.base, slow = pair.slow.base
            for i in 0..<pair.count {
                slow[i] += move * (fast[i] - slow[i])
                fast[i] = slow[i]
            }
        }
    }
}
