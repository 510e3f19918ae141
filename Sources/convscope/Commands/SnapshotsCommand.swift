import ArgumentParser
import ConvKit
import ConvPresent
import ConvScopeUI
import Foundation

/// `convscope snapshots`: the weight snapshots kept beside a checkpoint (the app's time scrubber), listed, or one
/// written out as a checkpoint of its own, so that `eval`, `gradcam`, `predict`, `diff` and the app reproduce any view
/// at that time.
struct SnapshotsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshots",
        abstract: "List the weight snapshots kept beside a checkpoint (the time scrubber's), or write one out as a checkpoint.",
        discussion: """
            `train` and the app keep copies of the weights (by default steps 0, 10, 100 and each epoch's end, within \
            --snapshot-budget) in CHECKPOINT.history.safetensors. With --extract STEP --out FILE the snapshot of that step \
            becomes a checkpoint every command reads: `convscope diff FILE CHECKPOINT` shows what changed since, \
            `convscope gradcam --checkpoint FILE` the heatmap of that time. See docs/timeline.md.
            """)

    @Option(name: .long, help: "A checkpoint written by convscope train or the app.")
    var checkpoint: String

    @Option(name: .long, help: "Write the snapshot of this global step as a checkpoint to --out.")
    var extract: Int?

    @Option(name: .long, help: "Where --extract writes.")
    var out: String?

    @Flag(name: .long, help: "Print JSON: every snapshot's step, epoch and stored test accuracy and per-class accuracy.")
    var json = false

    func validate() throws {
        if let extract, extract < 0 { throw ValidationError("--extract \(extract): expected a global step, 0 or more") }
        if (extract == nil) != (out == nil) { throw ValidationError("--extract STEP and --out FILE go together") }
    }

    func run() throws {
        let loaded = try RunCheckpoint.load(checkpoint)
        let path = WeightHistoryFile.path(besideCheckpoint: checkpoint)
        guard FileManager.default.fileExists(atPath: path) else {
            throw RuntimeError("checkpoint '\(checkpoint)' has no weight snapshots beside it (\(path) is missing; written with --snapshot-budget 0, or before snapshots existed)")
        }
        let history = try WeightHistoryFile.load(path, network: loaded.network)
        if let extract, let out {
            guard let snapshot = history.snapshot(atStep: extract) else {
                throw RuntimeError("\(path) has no snapshot at step \(extract); it keeps steps \(history.snapshots.map { String($0.step) }.joined(separator: ", "))")
            }
            snapshot.restore(into: loaded.network)
            var metadata = loaded.metadata
            for key in [RunCheckpoint.progressKey, HealthHistory.metadataKey, RunCheckpoint.formatKey, RunCheckpoint.specKey] { metadata[key] = nil }
            metadata[RunCheckpoint.epochKey] = String(snapshot.epoch)
            metadata[RunCheckpoint.stepKey] = String(snapshot.step)
            let epochs = RunCheckpoint.history(in: loaded.metadata).epochs.prefix(snapshot.epoch)
            metadata[RunCheckpoint.metricsKey] = (try? FiniteJSON.string(epochs.map(\.jsonObject))) ?? "[]"
            try RunCheckpoint.save(network: loaded.network, metadata: metadata, to: out)
            print("wrote \(out): the weights of epoch \(snapshot.epoch) step \(snapshot.step)")
            return
        }
        if json {
            return try printJSON([
                "checkpoint": checkpoint, "file": path, "bytes": history.byteCount,
                "cadence": ["early_steps": history.cadence.earlySteps, "every_epoch": history.cadence.everyEpoch,
                            "every_steps": history.cadence.everySteps ?? 0, "budget_bytes": history.cadence.budgetBytes],
                "snapshots": history.snapshots.map { snapshot -> [String: Any] in
                    var object: [String: Any] = ["step": snapshot.step, "epoch": snapshot.epoch, "bytes": snapshot.byteCount]
                    if let evaluation = snapshot.evaluation {
                        object["test_acc"] = Double(evaluation.accuracy)
                        object["test_loss"] = Double(evaluation.loss)
                        object["per_class_acc"] = evaluation.perClassAccuracy.map(Double.init)
                    }
                    return object
                },
            ])
        }
        print("\(history.count) snapshots in \(path), \(MemoryText.bytes(Double(history.byteCount))) "
            + "(budget \(MemoryText.bytes(Double(history.cadence.budgetBytes))))")
        print("   step  epoch  test acc")
        for snapshot in history.snapshots {
            let accuracy = snapshot.evaluation.map { String(format: "%7.2f%%", $0.accuracy * 100) } ?? "       -"
            print(String(snapshot.step).padded(toWidth: 7, alignment: .trailing) + String(snapshot.epoch).padded(toWidth: 7, alignment: .trailing)
                + "  " + accuracy)
        }
    }
}
