import ArgumentParser
import ConvKit
import Foundation

/// `convscope predict`: the top classes of chosen test images.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict", abstract: "Classify test-set images: top-k classes with probabilities.")

    @Option(name: .long, help: "The .safetensors checkpoint.")
    var checkpoint: String

    @Option(name: .long, parsing: .upToNextOption, help: "Test-set image numbers (0-based).")
    var index: [Int]

    @Option(name: .long, help: "How many classes to list per image.")
    var top = 3

    @OptionGroup var data: DataOptions

    @Flag(name: .long, help: "Print JSON with the probabilities and raw logits of every class.")
    var json = false

    func validate() throws {
        guard !index.isEmpty else { throw ValidationError("give at least one --index") }
        guard top >= 1 else { throw ValidationError("--top must be at least 1") }
    }

    func run() throws {
        let (model, _) = try Classifier.load(checkpoint)
        let dataset = try data.load(trainLimit: 0, quiet: json)
        let names = dataset.classNames
        for i in index where !(0..<dataset.test.count).contains(i) {
            throw ValidationError("--index \(i) is outside the test set (0-\(dataset.test.count - 1))")
        }
        let buffer = FloatBuffer()
        let assembler = BatchAssembler()
        var results: [[String: Any]] = []
        for i in index {
            let logits = model.logits(assembler.tensor(dataset.test, index: i, into: buffer)).array
            let probabilities = softmax(logits)
            let ranked = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }
            let label = dataset.test.label(i)
            if json {
                results.append([
                    "index": i, "label": label, "label_name": names[label], "predicted": ranked[0],
                    "predicted_name": names[ranked[0]], "probabilities": probabilities.map(Double.init),
                    "logits": logits.map(Double.init),
                ])
            } else {
                let mark = ranked[0] == label ? "right" : "wrong"
                print("image \(i): truth \(names[label]), predicted \(names[ranked[0]]) (\(mark))")
                for c in ranked.prefix(top) {
                    let bar = String(repeating: "█", count: probabilities[c].isFinite ? Int((probabilities[c] * 30).rounded()) : 0)
                    print("  " + names[c].padding(toLength: 12, withPad: " ", startingAt: 0) + String(format: "%6.2f%% ", probabilities[c] * 100) + bar)
                }
            }
        }
        if json {
            try printJSON(["checkpoint": checkpoint, "dataset": dataset.displayName, "classes": names, "images": results])
        }
    }
}
