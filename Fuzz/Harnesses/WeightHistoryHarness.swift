/// The weight history beside a checkpoint (`WeightHistoryFile.read`), which `train --resume`, the app and
/// `watch` read from disk: safetensors bytes, read for a small model of the spec the seeds name.
///
/// Contract: a history or a `WeightHistoryFileError` (the caller reports it in one line and goes on without the
/// history); a history that reads writes back (`WeightHistoryFile.safeTensors`) to a file that reads as the same
/// snapshots.
enum WeightHistoryHarness {
    static let harness = FuzzHarness(name: "history", summary: "the weight history beside a checkpoint", run: run)

    /// The model histories are read for. libFuzzer runs inputs on one thread, and reading only restores
    /// snapshots into a copy of it, so sharing it across inputs is never raced.
    nonisolated(unsafe) static let model = try! Network(spec: ModelSpec(SafeTensorsHarness.smallSpec))

    static func run(_ input: [UInt8]) {
        // The safetensors harness holds that parser to its contract; here only files that read go on.
        guard let file = try? SafeTensors(bytes: input, source: "fuzz") else { return }
        guard let history = fuzzExpect("WeightHistoryFile.read", { $0 is WeightHistoryFileError }, {
            try WeightHistoryFile.read(file, path: "fuzz", network: model)
        }) else { return }
        let written = WeightHistoryFile.safeTensors(history, network: model)
        let again = fuzzExpect("WeightHistoryFile.read of our own file", { _ in false }) {
            try WeightHistoryFile.read(SafeTensors(data: written.data()), path: "fuzz", network: model)
        }!
        fuzzCheck(again.snapshots.count == history.snapshots.count, "snapshot count changed in a round trip")
        for (a, b) in zip(history.snapshots, again.snapshots) {
            fuzzCheck(same(a, b), "snapshot at step \(a.step) changed in a round trip")
        }
    }

    /// Equal snapshots, a missing loss (NaN, written as null) equal to itself.
    static func same(_ a: WeightSnapshot, _ b: WeightSnapshot) -> Bool {
        guard a.step == b.step, a.epoch == b.epoch, a.floats == b.floats, a.counters == b.counters else { return false }
        switch (a.evaluation, b.evaluation) {
        case (nil, nil): return true
        case let (x?, y?):
            let loss = x.loss == y.loss || (x.loss.isNaN && y.loss.isNaN)
            return loss && x.accuracy == y.accuracy && x.confusion == y.confusion && x.predictions == y.predictions
        default: return false
        }
    }
}
