import ConvKit
import Foundation

/// How the app words a session's events (`SessionEvent`) on its status line.
public enum SessionEventText {
    /// The status line for `event`: `saved checkpoint run.safetensors`, `training finished: 3 epochs; keep
    /// exploring, s saves`, `diverged at epoch 1, step 5/78 ...`.
    public static func statusLine(_ event: SessionEvent) -> String {
        switch event {
        case .learningRateScaled(let scale): return String(format: "learning rate x%.3g of the schedule", Double(scale))
        case .saved(let path): return "saved checkpoint \(path)"
        case .saveFailed(_, let reason): return "save failed: \(reason)"
        case .finished(let epochs): return "training finished: \(epochs) epochs; keep exploring, s saves"
        case .diverged(let divergence): return DivergenceText.app(divergence)
        case .checkpointLoaded(let file, let step): return "loaded \(file) (step \(step))"
        case .skipped(let problems):
            guard let first = problems.first else { return "nothing skipped" }
            return RunWatchProblemText.line(first) + (problems.count > 1 ? " (and \(problems.count - 1) more)" : "")
        case .weightHistorySetAside(let problem): return "\(problem); the time scrubber starts without it"
        }
    }

    /// Whether `event` is bad news (shown in the error colour).
    public static func isError(_ event: SessionEvent) -> Bool {
        switch event {
        case .saveFailed, .diverged, .skipped, .weightHistorySetAside: return true
        case .learningRateScaled, .saved, .finished, .checkpointLoaded: return false
        }
    }
}
