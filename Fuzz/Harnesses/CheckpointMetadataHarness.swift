import Foundation

/// The text a checkpoint's metadata holds and ConvScope reads back: the training config, the epoch
/// progress, the class names, the epoch count and the model spec. Each input is offered as every one of
/// them (a JSON text, or not).
///
/// Contract: never a trap; a config that reads (either format version) writes back (`jsonText`) to one
/// that reads the same.
enum CheckpointMetadataHarness {
    static let harness = FuzzHarness(name: "metadata", summary: "checkpoint metadata: config, progress, classes, epoch, spec", run: run)

    static func run(_ input: [UInt8]) {
        let text = String(decoding: input, as: UTF8.self)
        let metadata = [
            RunCheckpoint.configKey: text, RunCheckpoint.progressKey: text, RunCheckpoint.classesKey: text,
            RunCheckpoint.epochKey: text, RunCheckpoint.specKey: text,
        ]
        if let config = RunCheckpoint.config(in: metadata, model: "tiny") {
            let written = (try? config.jsonText()) ?? ""
            let again = RunCheckpoint.config(in: [RunCheckpoint.configKey: written], model: "tiny")
            fuzzCheck(again == config, "config changed in a round trip: \(written)")
        }
        _ = RunCheckpoint.reflectsBorders(metadata)
        if let progress = RunCheckpoint.epochProgress(in: metadata, stepsPerEpoch: 391) {
            fuzzCheck(progress.step > 0 && progress.step < 391 && progress.correct >= 0 && progress.seen >= 0, "progress out of range")
        }
        if let names = RunCheckpoint.classNames(in: metadata, count: 10) {
            fuzzCheck(names.count == 10, "class names: wrong count")
        }
        _ = Int(metadata[RunCheckpoint.epochKey] ?? "")
        fuzzExpect("ModelSpec", { $0 is ModelSpecError }) { try ModelSpec(text) }
    }
}
