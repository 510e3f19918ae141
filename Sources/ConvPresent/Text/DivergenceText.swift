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

    /// The app's status line, the same facts made to fit a status bar: `diverged at epoch 1, step 5/78 (lr
    /// 376): training loss NaN; back to the start of epoch 1: press - to lower the rate, space to resume`.
    public static func app(_ divergence: Divergence) -> String {
        "diverged at epoch \(divergence.epoch), step \(divergence.step)/\(divergence.stepsPerEpoch) (lr \(rate(divergence.learningRate))): "
            + "\(what(divergence, short: true)); back to \(restored(divergence)): press - to lower the rate, space to resume"
    }

    /// `the start of epoch 3`, or `epoch 3, step 17` when the run began mid-epoch.
    static func restored(_ divergence: Divergence) -> String {
        let epoch = divergence.restoredEpoch + 1
        return divergence.restoredStep == 0 ? "the start of epoch \(epoch)" : "epoch \(epoch), step \(divergence.restoredStep)"
    }

    /// `the training loss is NaN`, `the gradient norm is inf`, `conv1.weight holds -inf after the update`;
    /// `short`: `training loss NaN`, `gradient norm inf`, `conv1.weight -inf`.
    static func what(_ divergence: Divergence, short: Bool = false) -> String {
        let value = number(divergence.value)
        switch (divergence.quantity, short) {
        case (.loss, false): return "the training loss is \(value)"
        case (.loss, true): return "training loss \(value)"
        case (.gradientNorm, false): return "the gradient norm is \(value)"
        case (.gradientNorm, true): return "gradient norm \(value)"
        case (.weights, false): return "\(divergence.tensor ?? "a weight") holds \(value) after the update"
        case (.weights, true): return "\(divergence.tensor ?? "a weight") \(value)"
        case (.testLoss, false): return "the test loss is \(value)"
        case (.testLoss, true): return "test loss \(value)"
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
