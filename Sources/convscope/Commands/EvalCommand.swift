import ArgumentParser
import ConvKit
import Foundation

/// `convscope eval`: test-set accuracy of a checkpoint.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Evaluate a checkpoint on the test set: accuracy, loss, per-class accuracy.")

    @Option(name: .long, help: "The .safetensors checkpoint.")
    var checkpoint: String

    @OptionGroup var data: DataOptions

    @Option(
        name: .long,
        help: "Test-time augmentation: none, flip (image and mirror) or flip+translate (six views; shifted views mirror the border if the run's crops did).")
    var tta = TestTimeAugmentation.none

    @Flag(name: .long, help: "Print JSON (accuracy, loss, per-class accuracy, confusion matrix).")
    var json = false

    func run() throws {
        let views = tta
        let (model, metadata) = try Classifier.load(checkpoint)
        if case .float(let network) = model { try requireMemory(network, for: .inference(batch: 128), checkpoint: checkpoint) }
        let dataset = try data.load(trainLimit: 0)
        if let recorded = metadata[RunCheckpoint.datasetKey], recorded != dataset.displayName {
            printError("warning: the model was trained on \(recorded) but is evaluated on \(dataset.displayName)")
        }
        let evaluator = Evaluator(classes: model.classCount, views: views, reflectingBorders: RunCheckpoint.reflectsBorders(metadata))
        let evaluation = evaluator.evaluate(dataset.test) { model.logits($0) }
        if json {
            try printJSON([
                "checkpoint": checkpoint, "model": model.spec.text, "int8": metadata[QuantizedNetwork.quantizationKey] != nil, "dataset": dataset.displayName,
                "images": dataset.test.count, "tta": views.rawValue, "accuracy": Double(evaluation.accuracy), "loss": Double(evaluation.loss),
                "per_class_accuracy": Dictionary(
                    uniqueKeysWithValues: zip(dataset.classNames, evaluation.perClassAccuracy.map(Double.init))),
                "confusion": evaluation.confusion, "classes": dataset.classNames,
            ])
            return
        }
        let tag = dataset.isSynthetic ? " [SYNTHETIC]" : ""
        let kind = metadata[QuantizedNetwork.quantizationKey] != nil ? " (int8)" : ""
        print("\(checkpoint): \(model.spec.text)\(kind)")
        let averaged = views == .none ? "" : " (\(views.rawValue) averaging)"
        print(String(format: "test accuracy %.2f%%  loss %.4f  on %d %@ images%@%@", evaluation.accuracy * 100, evaluation.loss,
                     dataset.test.count, dataset.displayName, tag, averaged))
        for (name, accuracy) in zip(dataset.classNames, evaluation.perClassAccuracy) {
            let bar = String(repeating: "█", count: Int((accuracy * 30).rounded()))
            print(name.padding(toLength: 12, withPad: " ", startingAt: 0) + String(format: "%6.1f%% ", accuracy * 100) + bar)
        }
    }
}
