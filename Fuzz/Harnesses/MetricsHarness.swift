import Foundation

/// The per-epoch metrics read on resume: the checkpoint's `metrics` metadata (a JSON array of epoch
/// records), and the same records one per line as the `.jsonl` metrics file holds them.
///
/// Contract: never a trap; a history that reads and holds only finite numbers writes back to one that
/// reads the same.
enum MetricsHarness {
    static let harness = FuzzHarness(name: "metrics", summary: "metrics history (checkpoint metadata, JSON lines)", run: run)

    static func run(_ input: [UInt8]) {
        let text = String(decoding: input, as: UTF8.self)
        let history = RunCheckpoint.history(in: [RunCheckpoint.metricsKey: text])
        if history.epochs.allSatisfy(isFinite) {
            let written = RunCheckpoint.json(history.epochs.map(\.jsonObject))
            let again = RunCheckpoint.history(in: [RunCheckpoint.metricsKey: written])
            fuzzCheck(again == history, "metrics changed in a round trip: \(written)")
        }
        for line in text.split(separator: "\n") {
            if let object = RunCheckpoint.parse(String(line)) as? [String: Any] {
                _ = TrainingHistory.Epoch(jsonObject: object)
            }
        }
    }

    static func isFinite(_ epoch: TrainingHistory.Epoch) -> Bool {
        [epoch.trainLoss, epoch.trainAccuracy, epoch.testLoss, epoch.testAccuracy, epoch.learningRate].allSatisfy(\.isFinite)
            && [epoch.seconds, epoch.elapsedSeconds, epoch.imagesPerSecond].allSatisfy(\.isFinite)
    }
}
