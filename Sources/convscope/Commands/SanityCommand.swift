import ArgumentParser
import ConvKit
import ConvRender
import Foundation

/// `convscope sanity`: the model-parameter randomisation test for one image (docs/explanations.md).
struct SanityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sanity",
        abstract: "Randomise the weights layer by layer (on a copy) and see whether each method's map changes.",
        discussion: """
            Adebayo et al. 2018: a map that stays the same when the model's weights are random explains the image, \
            not the model. Cascading: layers randomised from the classifier down, cumulatively; independent: one \
            layer at a time. Each row gives, per method, the Spearman rank correlation and the SSIM between the \
            trained model's map and the randomised one (1 = unchanged; a trustworthy method falls towards 0).

            --data-randomisation runs the paper's other test instead: a fresh copy of the checkpoint's \
            architecture is trained with the checkpoint's recipe for --epochs epochs on the training images with \
            their labels permuted (seeded by --seed), and each method's map on it is compared with the \
            checkpoint's. The --data set is the one trained on.
            """)

    @Option(name: .long, help: "The .safetensors checkpoint.")
    var checkpoint: String

    @OptionGroup var picture: ImageOptions

    @Option(name: .long, help: "Layer for the CAM family and Guided Grad-CAM (default: the last layer with a spatial output).")
    var layer: String?

    @Option(name: .long, help: "all, or a comma-separated list of methods.")
    var methods = "gradcam,gradcam++,layercam,saliency,guided-backprop,integrated-gradients,guided-gradcam"

    @Option(name: .long, help: "Cascading (from the classifier down, cumulatively), independent (one layer at a time) or both.")
    var mode = SanityModeChoice.both

    @Option(name: .long, help: "Seed of the random weights.")
    var seed: UInt64 = 0

    @OptionGroup var attribution: AttributionOptionGroup

    @Flag(name: .long, help: "Train a copy on shuffled labels and compare its maps with the checkpoint's (instead of randomising weights).")
    var dataRandomisation = false

    @Option(name: .long, help: "With --data-randomisation: epochs of training on the shuffled labels (default 3).")
    var epochs: Int?

    @Option(name: .long, help: "With --data-randomisation: train on the first N training images only.")
    var trainLimit: Int?

    @Flag(name: .long, help: "Print the curves as JSON.")
    var json = false

    @Option(name: .long, help: "Write the rows of maps (one row per method, trained then each randomisation) as PNG; with --mode both, the cascading rows.")
    var png: String?

    func validate() throws {
        if case .failure(let error) = ExplanationMethod.list(methods) { throw ValidationError("--methods: \(error)") }
        _ = try attribution.options()
        if let epochs, !(1...1000).contains(epochs) { throw ValidationError("--epochs must be between 1 and 1000, not \(epochs)") }
        if let trainLimit, trainLimit < 1 { throw ValidationError("--train-limit must be at least 1, not \(trainLimit)") }
        if !dataRandomisation && (trainLimit != nil || epochs != nil) {
            throw ValidationError("--epochs and --train-limit go with --data-randomisation")
        }
    }

    func run() throws {
        let loaded = try RunCheckpoint.load(checkpoint)
        let picture = try self.picture.load(classNames: loaded.classNames, defaultIndex: 0)
        var chosen = try ExplanationMethod.list(methods).get()
        if methods == "all", (try? Inspector(network: loaded.network).camHead()) == nil { chosen.removeAll { $0 == .activation(.cam) } }
        if dataRandomisation {
            try runDataRandomisation(loaded, picture: picture, methods: chosen)
            return
        }
        let modes = mode.modes
        let options = try attribution.options()
        let checks = try modes.map { mode in
            try SanityCheck.run(
                network: loaded.network, image: picture.tensor, layer: layer, methods: chosen, mode: mode, options: options, seed: seed)
        }
        let names = picture.classNames
        if let png { try PNG.write(checks[0].picture(), to: png) }
        if json {
            let object: [String: Any] = [
                "image": picture.name, "class": checks[0].classIndex, "class_name": names[checks[0].classIndex],
                "methods": chosen.map(\.rawValue), "layer": layer ?? "",
                "modes": checks.map { check -> [String: Any] in
                    ["mode": check.mode.rawValue, "steps": check.steps.map { step -> [String: Any] in
                        ["layer": step.layer, "spearman": step.spearman, "ssim": step.ssim]
                    }]
                },
            ]
            try printJSON(object)
            return
        }
        print("\(picture.name), explaining '\(names[checks[0].classIndex])' (the trained model's prediction). "
            + "Each cell: Spearman / SSIM against the trained model's map; near 1 = the map ignores the weights.")
        for check in checks {
            print("\n\(check.mode.rawValue) randomisation" + (check.mode == .cascading ? " (this layer and every one above it)" : " (this layer alone)"))
            let width = 13
            print("layer".padding(toLength: 16, withPad: " ", startingAt: 0)
                + check.methods.map { String($0.rawValue.prefix(width - 1)).padding(toLength: width, withPad: " ", startingAt: 0) }.joined())
            for step in check.steps {
                let cells = zip(step.spearman, step.ssim).map { String(format: "%5.2f/%5.2f  ", $0, $1) }.joined()
                print(step.layer.padding(toLength: 16, withPad: " ", startingAt: 0) + cells)
            }
        }
    }

    /// `--data-randomisation`: trains the label-shuffled copy, then prints or writes the comparison.
    private func runDataRandomisation(_ loaded: RunCheckpoint.Loaded, picture: Picture, methods: [ExplanationMethod]) throws {
        let config = try loaded.config()
        let dataset = try self.picture.data.load(trainLimit: trainLimit, quiet: json)
        let epochs = self.epochs ?? 3
        let images = min(config.trainLimit ?? Int.max, dataset.train.count)
        let bar = json ? nil : ProgressBar()
        let trainer: Trainer?
        do {
            trainer = try DataRandomisationTest.trainOnShuffledLabels(config: config, dataset: dataset, epochs: epochs, seed: seed) { done, total in
                bar?.update(prefix: "training on shuffled labels", done: done, total: total, suffix: "")
                return true
            }
        } catch {
            throw ValidationError("\(checkpoint): \(error)")
        }
        bar?.finish()
        guard let trainer else { return }
        let result = try DataRandomisationTest.compare(
            trained: loaded.network, randomised: trainer.network, randomisedEpoch: trainer.history.epochs.last, image: picture.tensor,
            layer: layer, methods: methods, options: try attribution.options())
        let names = picture.classNames
        if let png {
            var tiles: [RGBImage] = [], labels: [String] = []
            for comparison in result.comparisons {
                for (map, label) in [(comparison.trainedMap, comparison.method.rawValue), (comparison.randomisedMap, "shuffled labels")] {
                    tiles.append(HeatMap(width: 32, height: 32, values: map).normalized().colored(.jet))
                    labels.append(label)
                }
            }
            try PNG.write(Visualizer.grid(tiles, labels: labels, title: "data randomisation: trained, then trained on shuffled labels", tile: 64, columns: 2), to: png)
        }
        let epoch = result.randomisedEpoch
        if json {
            try printJSON([
                "image": picture.name, "class": result.classIndex, "class_name": names[result.classIndex], "layer": layer ?? "",
                "epochs": epochs, "seed": seed, "train_images": images,
                "shuffled_labels_train_accuracy": epoch.map { Double($0.trainAccuracy) as Any } ?? NSNull(),
                "shuffled_labels_test_accuracy": epoch.map { Double($0.testAccuracy) as Any } ?? NSNull(),
                "methods": result.comparisons.map { ["method": $0.method.rawValue, "spearman": $0.spearman, "ssim": $0.ssim] as [String: Any] },
            ] as [String: Any])
            return
        }
        print("\(picture.name), explaining '\(names[result.classIndex])' (the checkpoint's prediction) in both models.")
        if let epoch {
            print(String(
                format: "The copy trained %d epochs on %d images with shuffled labels: %.1f%% on its own labels, %.1f%% on the true test labels.",
                epochs, images, epoch.trainAccuracy * 100, epoch.testAccuracy * 100))
        }
        print("Spearman / SSIM of each method's map against the checkpoint's; near 1 = the map ignores what the labels taught.\n")
        print("method".padding(toLength: 22, withPad: " ", startingAt: 0) + "spearman   ssim")
        for comparison in result.comparisons {
            print(comparison.method.rawValue.padding(toLength: 22, withPad: " ", startingAt: 0) + String(format: "%8.2f %6.2f", comparison.spearman, comparison.ssim))
        }
    }
}
