import ConvKit
import Foundation

/// How the app and the command line word a `Divergence`: where it happened, what was not finite, what
/// the run went back to and what to try.
public enum DivergenceText {
    /// `training diverged at epoch 1, step 2 of 78 (learning rate 1e+05): the training loss is NaN`.
    public static func summary(_ divergence: Divergence) -> String {
        let place = "epoch \(divergence.epoch), step \(divergence.step) of \(divergence.stepsPerEpoch)"
        return "training diverged at \(place) (learning rate \(rate(divergence.learningRate))): \(what(divergence))"
    }

    /// The command line's one line: the summary, what happened to the checkpoint and the advice. `kept`
    /// describes the checkpoint file as it is now (`run.safetensors keeps epoch 3`).
    public static func commandLine(_ divergence: Divergence, kept: String) -> String {
        summary(divergence) + "; nothing was saved after it (\(kept)); try a lower --lr, e.g. --lr \(rate(divergence.peakLearningRate / 10))"
    }

    /// The app's status line: the summary, where the run now stands and the keys that retry it.
    public static func app(_ divergence: Divergence) -> String {
        summary(divergence) + "; weights back at step \(divergence.restoredGlobalStep): press - to lower the rate, space to resume"
    }

    /// `the training loss is NaN`, `the gradient norm is inf`, `conv1.weight holds -inf`.
    static func what(_ divergence: Divergence) -> String {
        let value = number(divergence.value)
        switch divergence.quantity {
        case .loss: return "the training loss is \(value)"
        case .gradientNorm: return "the gradient norm is \(value)"
        case .weights: return "\(divergence.tensor ?? "a weight") holds \(value) after the update"
        case .testLoss: return "the test loss is \(value)"
        }
    }

    /// `NaN`, `inf`, `-inf`, or a finite value in `%g` style.
    static func number(_ value: Float) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        return String(format: "%g", Double(value))
    }

    static func rate(_ value: Float) -> String { String(format: "%.3g", Double(value)) }
}
