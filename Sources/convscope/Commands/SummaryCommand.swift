import ArgumentParser
import ConvKit
import ConvPresent
import ConvScopeUI
import Foundation

/// `convscope summary`: the per-layer table of a model.
struct SummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Print a model's layers: output shape, parameters, multiply-adds, receptive field.",
        discussion: """
            Output sizes follow out = (in - k + 2p)/s + 1. The receptive field is the side of the input square \
            one output pixel can see: two stacked 3x3 convolutions see 5x5 with fewer weights than one 5x5. \
            The memory lines estimate what training (SGD) and inference at --batch take; a model that would not \
            fit in the memory available for training at that batch is refused. A training run adds its images, \
            its weight history (--snapshot-budget) and the program, which `train` and the app check once the data \
            set is read.
            """)

    @Option(name: .long, help: "A preset (tiny, simple, vgg, resnet20) or a spec string.")
    var model = ModelSpec.defaultPreset

    @Option(name: .customLong("batch"), help: "Images per batch for the memory estimate (training's default, 128).")
    var batchSize = 128

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        try validateModel(model)
        guard batchSize >= 1 else { throw ValidationError("--batch must be at least 1, not \(batchSize)") }
        try requireMemory(model, for: .training(batch: batchSize, optimizer: .sgd))
    }

    func run() throws {
        let estimate = try MemoryEstimate(spec: try ModelSpec(model))
        let summary = ModelSummary(try Network(model))
        let training = estimate.bytes(for: .training(batch: batchSize, optimizer: .sgd))
        let inference = estimate.bytes(for: .inference(batch: batchSize))
        guard json else {
            print(summary.text, terminator: "")
            print(
                "memory, estimated: weights \(MemoryText.bytes(estimate.parameterBytes)); at batch \(batchSize) training (SGD) "
                    + "about \(MemoryText.bytes(training)), inference about \(MemoryText.bytes(inference))")
            return
        }
        let rows: [[String: Any]] = summary.rows.map { row in
            [
                "name": row.name, "kind": row.kind.rawValue, "output": row.outputShape.description,
                "output_shape": row.outputShape.isFlat
                    ? [row.outputShape.count] : [row.outputShape.channels, row.outputShape.height, row.outputShape.width],
                "params": row.parameters, "mult_adds": row.multiplyAdds, "receptive_field": row.receptiveField,
                "depth": row.depth,
            ]
        }
        let object: [String: Any] = [
            "model": summary.spec.text, "layers": rows, "total_params": summary.totalParameters,
            "total_mult_adds": summary.totalMultiplyAdds,
            "memory": [
                "batch": batchSize, "parameter_bytes": estimate.parameterBytes, "training_bytes": training, "inference_bytes": inference,
            ],
        ]
        try printJSON(object)
    }
}

/// Prints a JSON object on one line with sorted keys; non-finite numbers are written as `null` (`FiniteJSON`).
func printJSON(_ object: Any) throws {
    let data = try FiniteJSON.data(object, options: [.sortedKeys, .withoutEscapingSlashes])
    print(String(decoding: data, as: UTF8.self))
}
