import ArgumentParser
import ConvKit
import ConvPresent
import ConvScopeUI
import Foundation

/// `convscope diff`: what changed between two checkpoints (weights per layer, accuracy, flipped predictions).
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare two checkpoints: weight change per layer, accuracy and per-class accuracy of both, flipped predictions.",
        discussion: """
            A and B are any two checkpoints of one task: two epochs of a run, a model and its pruned, int8 or \
            distilled copy. Per conv and fc layer: ||B-A||/||A|| and the cosine of the two weight tensors (with \
            batch norm folded in when either is int8); layers whose shapes differ (filter pruning, another \
            architecture) are listed with the reason. Then both models' accuracy on the test set (or its first \
            --images), and the test images whose prediction differs. --json has every flip.
            """)

    @Argument(help: "Checkpoint A (the reference).")
    var a: String

    @Argument(help: "Checkpoint B (compared against A).")
    var b: String

    @OptionGroup var data: DataOptions

    @Option(name: .long, help: "Compare on the first N test images only.")
    var images: Int?

    @Option(name: .long, help: "Flips listed in the table (all are in --json).")
    var flips = 10

    @Flag(name: .long, help: "Print JSON (layers, both scores, every flip).")
    var json = false

    func validate() throws {
        if let images, images < 1 { throw ValidationError("--images must be at least 1, not \(images)") }
        if flips < 0 { throw ValidationError("--flips must be 0 or more, not \(flips)") }
    }

    func run() throws {
        let (modelA, metadataA) = try Classifier.load(a)
        let (modelB, metadataB) = try Classifier.load(b)
        if case .float(let network) = modelA { try requireMemory(network, for: .inference(batch: 128), checkpoint: a) }
        if case .float(let network) = modelB { try requireMemory(network, for: .inference(batch: 128), checkpoint: b) }
        do {
            _ = try CheckpointComparison.compareWeights(modelA, modelB)  // refuses an unrelated pair before loading data
        } catch let error as CheckpointComparisonError {
            throw RuntimeError("\(a) (A) and \(b) (B): \(error)")
        }
        let dataset = try data.load(trainLimit: 0, quiet: json)
        for (path, metadata) in [(a, metadataA), (b, metadataB)] {
            if let recorded = metadata[RunCheckpoint.datasetKey], recorded != dataset.displayName {
                printError("warning: \(path) was trained on \(recorded) but is compared on \(dataset.displayName)")
            }
        }
        let set = images.map { dataset.test.subset(first: min($0, dataset.test.count)) } ?? dataset.test
        let compared: CheckpointComparison?
        do {
            compared = try CheckpointComparison.compare(modelA, modelB, on: set)
        } catch let error as CheckpointComparisonError {
            throw RuntimeError("\(a) (A) and \(b) (B): \(error)")
        }
        // Only a stop signal makes the comparison nil, and none is given.
        guard let comparison = compared else { return }
        let names = modelA.classCount == dataset.classCount ? dataset.classNames : (0..<modelA.classCount).map { "class \($0)" }
        if json {
            try printJSON(jsonObject(comparison, modelA, modelB, dataset: dataset, classNames: names))
        } else {
            printTable(comparison, modelA, modelB, dataset: dataset, classNames: names)
        }
    }

    private func describe(_ model: Classifier) -> String {
        if case .int8 = model { return "\(model.spec.text) (int8)" }
        return model.spec.text
    }

    private func printTable(_ comparison: CheckpointComparison, _ modelA: Classifier, _ modelB: Classifier, dataset: Dataset, classNames: [String]) {
        print("A: \(a): \(describe(modelA))")
        print("B: \(b): \(describe(modelB))")
        print("")
        print("weights: \(ComparisonText.basis(comparison.basis))")
        let header = ["layer", "shape A", "shape B", "||B-A||/||A||", "cosine", "zeros A", "zeros B"]
        let rows = comparison.layers.map { layer in
            [layer.layer, ComparisonText.shape(layer.shapeA), ComparisonText.shape(layer.shapeB), ComparisonText.change(layer),
             ComparisonText.cosine(layer), ComparisonText.percent(layer.zeroShareA), ComparisonText.percent(layer.zeroShareB)]
        }
        printColumns(header, rows)
        if !comparison.comparedWeights { print("no layer has the same shape in both: the models compare by their predictions only") }
        print("")
        print("accuracy on \(comparison.images.formatted) \(dataset.displayName) test images: \(ComparisonText.accuracies(comparison))")
        let accuraciesA = comparison.scoreA.perClassAccuracy, accuraciesB = comparison.scoreB.perClassAccuracy
        let perClass: [[String]] = classNames.indices.map { c in
            let a: Double = accuraciesA[c] * 100, b: Double = accuraciesB[c] * 100
            return [classNames[c], String(format: "%.1f%%", a), String(format: "%.1f%%", b), String(format: "%+.1f", b - a)]
        }
        printColumns(["class", "A", "B", "points"], perClass)
        print("")
        print(ComparisonText.flipSummary(comparison))
        for flip in comparison.flips.prefix(flips) { print("  " + ComparisonText.flip(flip, classNames: classNames)) }
        if comparison.flips.count > flips { print("  ... \(comparison.flips.count - flips) more (--json lists every flip)") }
    }


    private func jsonObject(
        _ comparison: CheckpointComparison, _ modelA: Classifier, _ modelB: Classifier, dataset: Dataset, classNames: [String]
    ) -> [String: Any] {
        func score(_ path: String, _ model: Classifier, _ score: CheckpointComparison.Score) -> [String: Any] {
            var isInt8 = false
            if case .int8 = model { isInt8 = true }
            return [
                "checkpoint": path, "model": model.spec.text, "int8": isInt8, "accuracy": score.accuracy, "correct": score.correct,
                "per_class_accuracy": Dictionary(uniqueKeysWithValues: zip(classNames, score.perClassAccuracy)),
            ]
        }
        let null = NSNull()
        let layers: [[String: Any]] = comparison.layers.map { layer in
            [
                "layer": layer.layer, "shape_a": layer.shapeA ?? null, "shape_b": layer.shapeB ?? null,
                "relative_change": layer.relativeChange ?? null, "cosine": layer.cosine ?? null,
                "zero_share_a": layer.zeroShareA ?? null, "zero_share_b": layer.zeroShareB ?? null,
                "not_compared": layer.gap?.rawValue ?? null,
            ]
        }
        let flips: [[String: Any]] = comparison.flips.map { flip in
            [
                "index": flip.index, "label": classNames[flip.label], "direction": flip.direction.rawValue,
                "a": ["class": classNames[flip.predictionA], "confidence": Double(flip.confidenceA)],
                "b": ["class": classNames[flip.predictionB], "confidence": Double(flip.confidenceB)],
            ]
        }
        return [
            "a": score(a, modelA, comparison.scoreA), "b": score(b, modelB, comparison.scoreB),
            "dataset": dataset.displayName, "images": comparison.images, "classes": classNames,
            "weights": comparison.basis.rawValue, "layers": layers,
            "flips": [
                "count": comparison.flips.count, "right_to_wrong": comparison.count(.broken),
                "wrong_to_right": comparison.count(.fixed), "wrong_to_other_wrong": comparison.count(.changed), "images": flips,
            ] as [String: Any],
        ]
    }
}
