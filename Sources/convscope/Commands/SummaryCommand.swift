import ArgumentParser
import ConvKit
import Foundation

/// `convscope summary`: the per-layer table of a model.
struct SummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Print a model's layers: output shape, parameters, multiply-adds, receptive field.",
        discussion: """
            Output sizes follow out = (in - k + 2p)/s + 1. The receptive field is the side of the input square \
            one output pixel can see: two stacked 3x3 convolutions see 5x5 with fewer weights than one 5x5.
            """)

    @Option(name: .long, help: "A preset (tiny, simple, vgg, resnet20) or a spec string.")
    var model = ModelSpec.defaultPreset

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    func validate() throws { try validateModel(model) }

    func run() throws {
        let summary = ModelSummary(try Network(model))
        guard json else {
            print(summary.text, terminator: "")
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
        ]
        try printJSON(object)
    }
}

/// Prints a JSON object on one line with sorted keys; non-finite numbers are written as `null` (`FiniteJSON`).
func printJSON(_ object: Any) throws {
    let data = try FiniteJSON.data(object, options: [.sortedKeys, .withoutEscapingSlashes])
    print(String(decoding: data, as: UTF8.self))
}
