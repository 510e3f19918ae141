import ArgumentParser
import ConvKit
import ConvPresent
import Foundation

/// `convscope faithfulness`: how well each explanation method ranks the pixels the model uses, over
/// test images, next to a random map, a Sobel edge map and a constant map (docs/explanations.md).
struct FaithfulnessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faithfulness",
        abstract: "Score explanation methods: deletion/insertion AUC, ROAD both orders, Average Drop, Increase in Confidence.",
        discussion: """
            For each of the first --images test images, each method explains the predicted class; the map ranks \
            the pixels. deletion (lower is better): area under the class probability as the top pixels turn \
            mean-coloured; insertion (higher): as they return into a blurred image; road_morf (lower) and \
            road_lerf (higher): mean probability with 10-90% of the pixels removed most/least relevant first by \
            noisy linear imputation; average_drop (lower, %) and increase_in_confidence (higher, fraction) for \
            the image multiplied by the map. Three baselines always run: random, sobel (an edge detector) and \
            constant.
            """)

    @Option(name: .long, help: "The .safetensors checkpoint.")
    var checkpoint: String

    @Option(name: .long, help: "How many test images (from index --first).")
    var images = 100

    @Option(name: .long, help: "First test image.")
    var first = 0

    @Option(name: .long, help: "all, or a comma-separated list of methods (see gradcam --help).")
    var methods = "all"

    @Option(name: .long, help: "Layer for the CAM family and Guided Grad-CAM (default: the last layer with a spatial output).")
    var layer: String?

    @OptionGroup var attribution: AttributionOptionGroup

    @OptionGroup var data: DataOptions

    @Flag(name: .long, help: "Print the table as JSON.")
    var json = false

    func validate() throws {
        guard (1...10_000).contains(images) else { throw ValidationError("--images must be between 1 and 10000, not \(images)") }
        guard first >= 0 else { throw ValidationError("--first must not be negative, not \(first)") }
        if case .failure(let error) = ExplanationMethod.list(methods) { throw ValidationError("--methods: \(error)") }
        _ = try attribution.options()
    }

    func run() throws {
        let loaded = try RunCheckpoint.load(checkpoint)
        let dataset = try data.load(trainLimit: 0)
        guard first + images <= dataset.test.count else {
            throw ValidationError("--first \(first) + --images \(images) is beyond the test set (\(dataset.test.count) images)")
        }
        var chosen = try ExplanationMethod.list(methods).get()
        // CAM needs a gap + fc head; leave it out of `all` on other models instead of failing.
        let inspector = Inspector(network: loaded.network)
        if methods == "all", (try? inspector.camHead()) == nil { chosen.removeAll { $0 == .activation(.cam) } }
        let options = try attribution.options()
        let rows = chosen.map(\.rawValue) + BaselineMap.allCases.map(\.description)
        var perRow = [[FaithfulnessScores]](repeating: [], count: rows.count)
        var seconds = [Double](repeating: 0, count: rows.count)
        let scorer = FaithfulnessScorer()
        let assembler = BatchAssembler(), buffer = FloatBuffer()
        let shape = loaded.network.inputShape
        var correct = 0
        for n in 0..<images {
            let index = first + n
            let image = assembler.tensor(dataset.test, index: index, into: buffer)
            inspector.run(image)
            let target = inspector.predictedClass
            if target == dataset.test.label(index) { correct += 1 }
            let pixels = Array(image.elements)
            for (row, method) in chosen.enumerated() {
                let start = Date()
                let explanation = try inspector.explain(method, layer: method.usesLayer ? layer : nil, classIndex: target, options: options)
                seconds[row] += Date().timeIntervalSince(start)
                let map = explanation.map(width: shape.width, height: shape.height)
                perRow[row].append(try scorer.scores(inspector: inspector, map: map, classIndex: target))
            }
            for (offset, baseline) in BaselineMap.allCases.enumerated() {
                let map = baseline.map(image: pixels, width: shape.width, height: shape.height, channels: shape.channels, seed: UInt64(index))
                perRow[chosen.count + offset].append(try scorer.scores(inspector: inspector, map: map, classIndex: target))
            }
            if !json && (n + 1) % 10 == 0 { printError("\(n + 1)/\(images) images") }
        }
        let means = try perRow.map { scores in
            // `validate` keeps --images at 1 or more, so every row has scores.
            guard let mean = FaithfulnessScores.mean(scores) else { throw RuntimeError("faithfulness: no image was scored") }
            return mean
        }
        let errors = perRow.map(FaithfulnessScores.standardError)
        if json {
            let table: [[String: Any]] = zip(rows, means).enumerated().map { row, pair in
                var object: [String: Any] = ["method": pair.0, "baseline": row >= chosen.count]
                for (name, value) in zip(FaithfulnessScores.names, pair.1.values) { object[name] = value }
                if let error = errors[row] {
                    object["standard_error"] = Dictionary(uniqueKeysWithValues: zip(FaithfulnessScores.names, error.values))
                }
                if row < chosen.count { object["seconds_per_map"] = seconds[row] / Double(images) }
                return object
            }
            try printJSON([
                "checkpoint": checkpoint, "spec": loaded.network.spec.text, "images": images, "first": first,
                "accuracy_on_these": Double(correct) / Double(images), "layer": layer ?? inspector.defaultLayer?.name ?? "",
                "rows": table,
            ] as [String: Any])
        } else {
            print("\(loaded.network.spec.text): \(images) test images from #\(first), predicted class, "
                + "\(correct) of them correct. deletion/road_morf/drop: lower is better; insertion/road_lerf/increase: higher.")
            func cells(_ name: String, _ values: [Double]) -> [String] {
                [name] + zip(values, ["%.4f", "%.4f", "%.4f", "%.4f", "%.2f", "%.3f"]).map { String(format: $1, $0) }
            }
            // The largest standard error of each column's means: differences smaller than about twice it may be
            // the images' doing rather than the methods'.
            let known = errors.compactMap { $0 }
            let largest = (0..<FaithfulnessScores.names.count).map { column in known.map { $0.values[column] }.max() ?? 0 }
            let table = TextTable(
                header: ["method", "deletion", "insertion", "road_morf", "road_lerf", "drop%", "increase"],
                rows: zip(rows, means).map { cells($0, $1.values) },
                footer: known.isEmpty ? [] : [cells("largest standard error", largest)])
            print(table.text, terminator: "")
        }
    }
}
