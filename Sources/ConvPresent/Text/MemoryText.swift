import ConvKit
import Foundation

/// How the app and the command line word a `MemoryLimitError`: the model, what it was to do, the bytes
/// against the budget, and the layer with the largest share.
public enum MemoryText {
    /// `--model conv60000,gap,fc10: training at batch 128 needs about 58.8 GiB, more than the 21.8 GiB of
    /// memory available (MemAvailable); the largest part is conv1 (conv60000) with 29.4 GiB; use a smaller
    /// --batch or a smaller model`. `subject` names where the model came from when no checkpoint did.
    public static func refusal(_ error: MemoryLimitError, subject: String = "--model") -> String {
        let model = error.source.map { "checkpoint '\(oneLine($0))': its model \(error.model)" } ?? "\(subject) \(error.model)"
        let task: String
        switch error.use {
        case .training(let batch, _): task = "training at batch \(batch)"
        case .inference(let batch): task = batch == 1 ? "running it on one image" : "inference at batch \(batch)"
        }
        let largest = error.largest.token.isEmpty ? error.largest.layer : "\(error.largest.layer) (\(error.largest.token))"
        var advice = error.use == .inference(batch: 1)
            ? "it cannot run on this machine" : "use a smaller \(error.use.isTraining ? "--batch" : "batch") or a smaller model"
        var whole = ""
        if let run = error.run {
            whole = " with its images (\(bytes(run.images))) and weight history (\(bytes(run.history)))"
            advice = "use a smaller --batch, a smaller model\(run.history > 0 ? ", a smaller --snapshot-budget" : "") or --train-limit"
        }
        return "\(model): \(task)\(whole) needs about \(bytes(error.bytes)), more than the \(bytes(error.budget.bytes)) "
            + "\(budget(error.budget.source)); the largest part is \(largest) with \(bytes(error.largest.bytes)); \(advice)"
    }

    /// Where the budget comes from, after its number.
    static func budget(_ source: MemoryBudget.Source) -> String {
        switch source {
        case .available: return "of memory available (MemAvailable in /proc/meminfo)"
        case .cgroup: return "left under this container's memory limit"
        case .physical: return "of physical memory"
        case .environment: return "that \(MemoryBudget.environmentKey) allows"
        }
    }

    /// `512 B`, `1.5 KiB`, `48.8 GiB`, `13.7 TiB` (powers of 1024).
    public static func bytes(_ value: Double) -> String {
        guard value.isFinite else { return "an unbounded amount" }
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var scaled = value, unit = 0
        while scaled >= 1024 && unit < units.count - 1 {
            scaled /= 1024
            unit += 1
        }
        return unit == 0 ? "\(Int(scaled)) B" : String(format: "%.1f %@", scaled, units[unit])
    }

    private static func oneLine(_ text: String) -> String {
        text.replacingOccurrences(of: "\n", with: " ")
    }
}
